--
-- PostgreSQL database dump
--

\restrict g7VhCQ9bGmdcHyEl77zIs5qpDBhPYrOUOS4vdaWO4nME8nMHpLY6IpvPXphrin5

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: attachment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachment (
    id integer NOT NULL,
    message_id integer NOT NULL,
    filename text NOT NULL,
    content_type character varying(255) NOT NULL,
    size bigint NOT NULL,
    sha256 character varying(64)
);


--
-- Name: attachment_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.attachment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: attachment_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.attachment_id_seq OWNED BY public.attachment.id;


--
-- Name: clock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.clock (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    metric character varying(32) NOT NULL,
    started_at timestamp without time zone NOT NULL,
    due_at timestamp without time zone,
    warn_at timestamp without time zone,
    state character varying(12) NOT NULL,
    paused_at timestamp without time zone,
    met_at timestamp without time zone,
    breached_at timestamp without time zone,
    warned_at timestamp without time zone,
    escalate boolean NOT NULL,
    alert_alias character varying(255),
    alert_state character varying(12) NOT NULL,
    alert_error text
);


--
-- Name: clock_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.clock_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: clock_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.clock_id_seq OWNED BY public.clock.id;


--
-- Name: event; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.event (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    at timestamp without time zone NOT NULL,
    actor character varying(320) NOT NULL,
    action character varying(64) NOT NULL,
    detail text NOT NULL,
    data text
);


--
-- Name: event_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.event_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: event_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.event_id_seq OWNED BY public.event.id;


--
-- Name: mailbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.mailbox (
    name character varying(255) NOT NULL,
    uidvalidity bigint,
    last_uid bigint NOT NULL,
    last_poll_at timestamp without time zone,
    last_error text,
    waiting integer NOT NULL
);


--
-- Name: message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.message (
    id integer NOT NULL,
    ticket_id integer,
    message_id character varying(998) NOT NULL,
    content_key character varying(64) NOT NULL,
    direction character varying(8) NOT NULL,
    kind character varying(16) NOT NULL,
    from_addr character varying(320) NOT NULL,
    from_name character varying(320) NOT NULL,
    recipients text NOT NULL,
    rcpt character varying(320),
    subject text NOT NULL,
    text text NOT NULL,
    new_text text NOT NULL,
    in_reply_to character varying(998),
    "references" text NOT NULL,
    thread_index character varying(512),
    date timestamp without time zone NOT NULL,
    received_at timestamp without time zone NOT NULL,
    machine_reason text,
    ignored boolean NOT NULL,
    mailbox character varying(255),
    uidvalidity bigint,
    uid bigint
);


--
-- Name: message_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.message_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: message_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.message_id_seq OWNED BY public.message.id;


--
-- Name: outbox_item; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_item (
    id integer NOT NULL,
    kind character varying(8) NOT NULL,
    ticket_id integer,
    message_id integer,
    recipients text NOT NULL,
    raw bytea,
    action character varying(16),
    alias character varying(255),
    payload text,
    state character varying(12) NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamp without time zone NOT NULL,
    claimed_until timestamp without time zone,
    last_error text,
    created_at timestamp without time zone NOT NULL,
    sent_at timestamp without time zone
);


--
-- Name: outbox_item_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.outbox_item_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: outbox_item_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.outbox_item_id_seq OWNED BY public.outbox_item.id;


--
-- Name: page; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.page (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    alias character varying(255) NOT NULL,
    team character varying(64) NOT NULL,
    state character varying(12) NOT NULL,
    created_at timestamp without time zone NOT NULL,
    last_error text
);


--
-- Name: page_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.page_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: page_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.page_id_seq OWNED BY public.page.id;


--
-- Name: participant; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.participant (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    address character varying(320) NOT NULL,
    role character varying(16) NOT NULL
);


--
-- Name: participant_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.participant_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: participant_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.participant_id_seq OWNED BY public.participant.id;


--
-- Name: quarantined; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.quarantined (
    id integer NOT NULL,
    mailbox character varying(255) NOT NULL,
    uidvalidity bigint,
    uid bigint,
    message_id character varying(998) NOT NULL,
    content_key character varying(64) NOT NULL,
    subject text NOT NULL,
    from_addr character varying(320) NOT NULL,
    reason text NOT NULL,
    at timestamp without time zone NOT NULL,
    replayed_at timestamp without time zone
);


--
-- Name: quarantined_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.quarantined_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: quarantined_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.quarantined_id_seq OWNED BY public.quarantined.id;


--
-- Name: rating; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rating (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    rating character varying(8),
    satisfied boolean,
    comment text,
    at timestamp without time zone NOT NULL
);


--
-- Name: rating_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.rating_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: rating_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.rating_id_seq OWNED BY public.rating.id;


--
-- Name: setting; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.setting (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: survey; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.survey (
    id integer NOT NULL,
    ticket_id integer NOT NULL,
    due_at timestamp without time zone NOT NULL,
    state character varying(12) NOT NULL,
    token character varying(32) NOT NULL,
    sent_at timestamp without time zone
);


--
-- Name: survey_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.survey_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: survey_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.survey_id_seq OWNED BY public.survey.id;


--
-- Name: ticket; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ticket (
    id integer NOT NULL,
    subject text NOT NULL,
    status character varying(16) NOT NULL,
    priority character varying(2) NOT NULL,
    team character varying(64) NOT NULL,
    tags text NOT NULL,
    requester character varying(320) NOT NULL,
    requester_name character varying(320) NOT NULL,
    reply_to character varying(320),
    assignee character varying(320),
    source character varying(16) NOT NULL,
    decision text NOT NULL,
    linked_ticket integer,
    merged_into integer,
    language character varying(8),
    address character varying(320),
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    first_response_at timestamp without time zone,
    solved_at timestamp without time zone,
    closed_at timestamp without time zone
);


--
-- Name: ticket_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.ticket_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: ticket_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.ticket_id_seq OWNED BY public.ticket.id;


--
-- Name: attachment id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment ALTER COLUMN id SET DEFAULT nextval('public.attachment_id_seq'::regclass);


--
-- Name: clock id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clock ALTER COLUMN id SET DEFAULT nextval('public.clock_id_seq'::regclass);


--
-- Name: event id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event ALTER COLUMN id SET DEFAULT nextval('public.event_id_seq'::regclass);


--
-- Name: message id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message ALTER COLUMN id SET DEFAULT nextval('public.message_id_seq'::regclass);


--
-- Name: outbox_item id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_item ALTER COLUMN id SET DEFAULT nextval('public.outbox_item_id_seq'::regclass);


--
-- Name: page id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.page ALTER COLUMN id SET DEFAULT nextval('public.page_id_seq'::regclass);


--
-- Name: participant id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.participant ALTER COLUMN id SET DEFAULT nextval('public.participant_id_seq'::regclass);


--
-- Name: quarantined id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.quarantined ALTER COLUMN id SET DEFAULT nextval('public.quarantined_id_seq'::regclass);


--
-- Name: rating id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rating ALTER COLUMN id SET DEFAULT nextval('public.rating_id_seq'::regclass);


--
-- Name: survey id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey ALTER COLUMN id SET DEFAULT nextval('public.survey_id_seq'::regclass);


--
-- Name: ticket id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket ALTER COLUMN id SET DEFAULT nextval('public.ticket_id_seq'::regclass);


--
-- Data for Name: attachment; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: clock; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.clock VALUES (1, 1, 'first_response', '2026-11-30 17:01:00', '2026-12-01 17:01:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);
INSERT INTO public.clock VALUES (2, 1, 'resolution', '2026-11-30 17:01:00', '2026-12-05 17:01:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);
INSERT INTO public.clock VALUES (3, 2, 'first_response', '2026-11-30 17:02:00', '2026-11-30 21:02:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);
INSERT INTO public.clock VALUES (4, 2, 'resolution', '2026-11-30 17:02:00', '2026-12-03 17:02:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);
INSERT INTO public.clock VALUES (5, 3, 'first_response', '2026-11-30 17:03:00', '2026-12-01 17:03:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);
INSERT INTO public.clock VALUES (6, 3, 'resolution', '2026-11-30 17:03:00', '2026-12-05 17:03:00', NULL, 'running', NULL, NULL, NULL, NULL, false, NULL, 'none', NULL);


--
-- Data for Name: event; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.event VALUES (1, 1, '2026-11-30 17:01:00', 'mail', 'opened', 'new conversation', NULL);
INSERT INTO public.event VALUES (2, 1, '2026-11-30 17:01:00', 'rules', 'routed', 'defaults', '{"matched": []}');
INSERT INTO public.event VALUES (3, 2, '2026-11-30 17:02:00', 'mail', 'opened', 'new conversation', NULL);
INSERT INTO public.event VALUES (4, 2, '2026-11-30 17:02:00', 'rules', 'routed', 'invoices', '{"matched": [{"name": "invoices", "why": ["subject /(?i)invoice/ matched ''Invoice''"]}]}');
INSERT INTO public.event VALUES (5, 3, '2026-11-30 17:03:00', 'mail', 'opened', 'new conversation', NULL);
INSERT INTO public.event VALUES (6, 3, '2026-11-30 17:03:00', 'rules', 'routed', 'defaults', '{"matched": []}');


--
-- Data for Name: mailbox; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: message; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.message VALUES (1, 1, '<v4-1@client.example.org>', 'ced0a2420bf2801710b64efa7abe2389c92eb77e7895a79f399ed72320f37e20', 'inbound', 'customer', 'jane@example.org', 'Customer 1', '["support@example.com"]', NULL, 'Printer on fire', 'It is on fire, please help.
', 'It is on fire, please help.', NULL, '[]', NULL, '2026-11-30 09:00:00', '2026-11-30 17:01:00', NULL, false, 'support@127.0.0.1/INBOX', 7, 1);
INSERT INTO public.message VALUES (2, 1, '<mr.1.1.953bc25836@example.com>', '16061edc924357048471e848f0808804ec5def451462d894512d0056185a1433', 'outbound', 'ack', 'support@example.com', 'Example Support', '["jane@example.org"]', 'jane@example.org', 'Re: [Support #1] Printer on fire', 'Hello Customer 1,

Thank you for writing to Example Support. Your request is now ticket #1:

    Printer on fire

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 5:01 PM UTC on Tuesday, 1 December.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #1]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', 'Hello Customer 1,

Thank you for writing to Example Support. Your request is now ticket #1:

    Printer on fire

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 5:01 PM UTC on Tuesday, 1 December.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #1]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', '<v4-1@client.example.org>', '["<v4-1@client.example.org>"]', 'Ad2A7F/dV8sUqVPmKsg4MecUGonFsg==', '2026-11-30 17:01:00', '2026-11-30 17:01:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (3, 1, '<mr.1.2.f80101eb52@example.com>', '679f512a23bbf9c7e410519b967abe0bd9a4ee49721d8b6d1b8f30396cd3d37b', 'outbound', 'notification', 'support@example.com', 'Customer 1 via Example Support', '["team@example.com"]', 'team@example.com', '[Support #1] Printer on fire', 'New ticket: ticket #1, Printer on fire

Requester: Customer 1 <jane@example.org>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:01 PM UTC on Tuesday, 1 December (2026-12-01T17:01:00Z)

------------------------------------------------------------------------
From:    Customer 1 <jane@example.org>
Date:    2026-11-30T17:01:00Z
Subject: Printer on fire

It is on fire, please help.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', 'New ticket: ticket #1, Printer on fire

Requester: Customer 1 <jane@example.org>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:01 PM UTC on Tuesday, 1 December (2026-12-01T17:01:00Z)

------------------------------------------------------------------------
From:    Customer 1 <jane@example.org>
Date:    2026-11-30T17:01:00Z
Subject: Printer on fire

It is on fire, please help.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', '<v4-1@client.example.org>', '["<mr.1.1.953bc25836@example.com>", "<v4-1@client.example.org>"]', 'Ad2A7F/dMQ5lVcdLaQV/cGOUBFN2ig==', '2026-11-30 17:01:00', '2026-11-30 17:01:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (4, 2, '<v4-2@client.example.org>', '904a51118b0e955c03d71b4f6d271ac609d21ec4334aff342dca5279e3a96a7c', 'inbound', 'customer', 'bob@bigcorp.com', 'Customer 2', '["support@example.com"]', NULL, 'Invoice 2026-11 is wrong', 'We were charged twice.
', 'We were charged twice.', NULL, '[]', NULL, '2026-11-30 10:00:00', '2026-11-30 17:02:00', NULL, false, 'support@127.0.0.1/INBOX', 7, 2);
INSERT INTO public.message VALUES (5, 2, '<mr.2.3.94650af50a@example.com>', '5dacd3d7891996e66ff3c363e057893df12e1710dad686ae1977aa5b4cb418fd', 'outbound', 'ack', 'support@example.com', 'Example Support', '["bob@bigcorp.com"]', 'bob@bigcorp.com', 'Re: [Support #2] Invoice 2026-11 is wrong', 'Hello Customer 2,

Thank you for writing to Example Support. Your request is now ticket #2:

    Invoice 2026-11 is wrong

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 9:02 PM UTC on Monday, 30 November.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #2]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', 'Hello Customer 2,

Thank you for writing to Example Support. Your request is now ticket #2:

    Invoice 2026-11 is wrong

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 9:02 PM UTC on Monday, 30 November.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #2]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', '<v4-2@client.example.org>', '["<v4-2@client.example.org>"]', 'Ad2A7IOhpQDKcnPGnpMdCzuzQfEw0A==', '2026-11-30 17:02:00', '2026-11-30 17:02:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (6, 2, '<mr.2.4.20532b8448@example.com>', '211dd3fa292c5a59c8746af53fae1737a8327b00421483438b019853b9577a17', 'outbound', 'notification', 'support@example.com', 'Customer 2 via Example Support', '["billing-team@example.com"]', 'billing-team@example.com', '[Support #2] Invoice 2026-11 is wrong', 'New ticket: ticket #2, Invoice 2026-11 is wrong

Requester: Customer 2 <bob@bigcorp.com>
Priority:  P2    Team: billing    Status: new
Assignee:  nobody yet
Due:       first response by 9:02 PM UTC on Monday, 30 November (2026-11-30T21:02:00Z)

------------------------------------------------------------------------
From:    Customer 2 <bob@bigcorp.com>
Date:    2026-11-30T17:02:00Z
Subject: Invoice 2026-11 is wrong

We were charged twice.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', 'New ticket: ticket #2, Invoice 2026-11 is wrong

Requester: Customer 2 <bob@bigcorp.com>
Priority:  P2    Team: billing    Status: new
Assignee:  nobody yet
Due:       first response by 9:02 PM UTC on Monday, 30 November (2026-11-30T21:02:00Z)

------------------------------------------------------------------------
From:    Customer 2 <bob@bigcorp.com>
Date:    2026-11-30T17:02:00Z
Subject: Invoice 2026-11 is wrong

We were charged twice.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', '<v4-2@client.example.org>', '["<mr.2.3.94650af50a@example.com>", "<v4-2@client.example.org>"]', 'Ad2A7IOhvS5US8Zmyrskq6maBFuDtA==', '2026-11-30 17:02:00', '2026-11-30 17:02:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (7, 3, '<v4-3@client.example.org>', '24538512f2b576b73bdf7cc1fd07a35ca3ca8c0022211f5d589ffb6b45a630c2', 'inbound', 'customer', 'carla@example.net', 'Customer 3', '["support@example.com"]', NULL, 'Password reset does not arrive', 'No mail after three tries.
', 'No mail after three tries.', NULL, '[]', NULL, '2026-11-30 11:00:00', '2026-11-30 17:03:00', NULL, false, 'support@127.0.0.1/INBOX', 7, 3);
INSERT INTO public.message VALUES (8, 3, '<mr.3.5.f0bef90e89@example.com>', '2b4e4679ca8be51111076990606266bab75cbc66016f441f12c7682adfcc82f2', 'outbound', 'ack', 'support@example.com', 'Example Support', '["carla@example.net"]', 'carla@example.net', 'Re: [Support #3] Password reset does not arrive', 'Hello Customer 3,

Thank you for writing to Example Support. Your request is now ticket #3:

    Password reset does not arrive

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 5:03 PM UTC on Tuesday, 1 December.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #3]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', 'Hello Customer 3,

Thank you for writing to Example Support. Your request is now ticket #3:

    Password reset does not arrive

WHAT HAPPENS NEXT

An engineer will read your message and send you a first answer by 5:03 PM UTC on Tuesday, 1 December.
You do not need to write again: our answer comes by mail, to this address.

TO SPEED THINGS UP

If you have not already told us, reply with whatever applies:
  - what you were trying to do, and what happened instead;
  - the exact error message, and a screenshot if you can;
  - when it started, and whether it happens every time;
  - your account name, order number or the address of the affected page;
  - anything you have already tried.

ADDING INFORMATION

Reply to this mail to add anything, attachments included. Please keep
"[Support #3]" in the subject so that your message joins this ticket,
rather than starting a new one.

Example Support
support@example.com

(This acknowledgement was sent automatically; a person will answer you.)
', '<v4-3@client.example.org>', '["<v4-3@client.example.org>"]', 'Ad2A7Kdk/uS6ryVWy4vns4U7aCvCBg==', '2026-11-30 17:03:00', '2026-11-30 17:03:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (9, 3, '<mr.3.6.529f7b8d38@example.com>', '7fa60b6cc7ccf404c9407de7c0dac740fd5fb12ec9167c53f2f90b386620aad7', 'outbound', 'notification', 'support@example.com', 'Customer 3 via Example Support', '["team@example.com"]', 'team@example.com', '[Support #3] Password reset does not arrive', 'New ticket: ticket #3, Password reset does not arrive

Requester: Customer 3 <carla@example.net>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:03 PM UTC on Tuesday, 1 December (2026-12-01T17:03:00Z)

------------------------------------------------------------------------
From:    Customer 3 <carla@example.net>
Date:    2026-11-30T17:03:00Z
Subject: Password reset does not arrive

No mail after three tries.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', 'New ticket: ticket #3, Password reset does not arrive

Requester: Customer 3 <carla@example.net>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:03 PM UTC on Tuesday, 1 December (2026-12-01T17:03:00Z)

------------------------------------------------------------------------
From:    Customer 3 <carla@example.net>
Date:    2026-11-30T17:03:00Z
Subject: Password reset does not arrive

No mail after three tries.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', '<v4-3@client.example.org>', '["<mr.3.5.f0bef90e89@example.com>", "<v4-3@client.example.org>"]', 'Ad2A7KdkN0w4Mu4lIUrbYrOdYoogbA==', '2026-11-30 17:03:00', '2026-11-30 17:03:00', NULL, false, NULL, NULL, NULL);
INSERT INTO public.message VALUES (10, NULL, '<v4-4@client.example.org>', '9cdcb2141bc1a5b2337faf7d69d356db4598356f7c5ec95600a069956bdcb146', 'inbound', 'customer', 'news@lists.example.net', 'Customer 4', '["support@example.com"]', NULL, 'Weekly digest', 'News.
', 'News.', NULL, '[]', NULL, '2026-11-30 12:00:00', '2026-11-30 17:04:00', 'List-Id digest.example.net is not ours', true, 'support@127.0.0.1/INBOX', 7, 4);
INSERT INTO public.message VALUES (11, 1, '<v4-5@client.example.org>', 'db6c62622543cd8f99bfb843cabaf66eaea8905c097cf5f3c72279db02a2b75a', 'inbound', 'customer', 'jane@example.org', 'Customer 5', '["support@example.com"]', NULL, 'Re: Printer on fire', 'Still burning.
', 'Still burning.', '<v4-1@client.example.org>', '["<v4-1@client.example.org>"]', NULL, '2026-11-30 13:00:00', '2026-11-30 17:05:00', NULL, false, 'support@127.0.0.1/INBOX', 7, 5);
INSERT INTO public.message VALUES (12, 1, '<mr.1.7.7a7ffa4500@example.com>', 'c2fd8f91c4966f4899a7dab96879fc6413bd52efe939176bfd6bc2b2f29498cc', 'outbound', 'notification', 'support@example.com', 'Customer 5 via Example Support', '["team@example.com"]', 'team@example.com', '[Support #1] Printer on fire', 'Customer replied: ticket #1, Printer on fire

Requester: Customer 1 <jane@example.org>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:01 PM UTC on Tuesday, 1 December (2026-12-01T17:01:00Z)

------------------------------------------------------------------------
From:    Customer 5 <jane@example.org>
Date:    2026-11-30T17:05:00Z
Subject: Re: Printer on fire

Still burning.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', 'Customer replied: ticket #1, Printer on fire

Requester: Customer 1 <jane@example.org>
Priority:  P3    Team: general    Status: new
Assignee:  nobody yet
Due:       first response by 5:01 PM UTC on Tuesday, 1 December (2026-12-01T17:01:00Z)

------------------------------------------------------------------------
From:    Customer 5 <jane@example.org>
Date:    2026-11-30T17:05:00Z
Subject: Re: Printer on fire

Still burning.
------------------------------------------------------------------------

Reply to this mail to answer the customer: your new text is relayed to them
from support@example.com. Lines at the very top starting with # are commands:
#note (internal only), #holding, #status open|pending|solved|closed,
#priority P1..P5, #assign ADDRESS, #team NAME, #tag NAME, #page TEAM text,
#merge TICKET (this one is a duplicate of TICKET).
', '<v4-5@client.example.org>', '["<v4-1@client.example.org>", "<mr.1.1.953bc25836@example.com>", "<mr.1.2.f80101eb52@example.com>", "<v4-5@client.example.org>"]', 'Ad2A7O7rikOaIxw/Iv5SMSK0SWyOEw==', '2026-11-30 17:05:00', '2026-11-30 17:05:00', NULL, false, NULL, NULL, NULL);


--
-- Data for Name: outbox_item; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.outbox_item VALUES (1, 'mail', 1, 2, '["jane@example.org"]', '\x46726f6d3a204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a206a616e65406578616d706c652e6f72670d0a5375626a6563743a2052653a205b537570706f72742023315d205072696e746572206f6e20666972650d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30313a3030202b303030300d0a4d6573736167652d49443a203c6d722e312e312e39353362633235383336406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3140636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c76342d3140636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d7265706c6965640d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a205072696e746572206f6e20666972650d0a5468726561642d496e6465783a204164324137462f64563873557156506d4b7367344d656355476f6e4673673d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a206d756c7469706172742f616c7465726e61746976653b0d0a20626f756e646172793d223d5f6d725f3537636231346139353365363261633833383331653731345f30220d0a0d0a2d2d3d5f6d725f3537636231346139353365363261633833383331653731345f300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a48656c6c6f20437573746f6d657220312c0d0a0d0a5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77207469636b65742023313a0d0a0d0a202020205072696e746572206f6e20666972650d0a0d0a574841542048415050454e53204e4558540d0a0d0a416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e7377657220627920353a303120504d20553d0d0a5443206f6e20547565736461792c203120446563656d6265722e0d0a596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f207468697320616464726573732e0d0a0d0a544f205350454544205448494e47532055500d0a0d0a496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a0d0a20202d207768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b0d0a20202d20746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b0d0a20202d207768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b0d0a20202d20796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b0d0a20202d20616e797468696e6720796f75206861766520616c72656164792074726965642e0d0a0d0a414444494e4720494e464f524d4154494f4e0d0a0d0a5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a225b537570706f72742023315d2220696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e732074686973207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e0d0a0d0a4578616d706c6520537570706f72740d0a737570706f7274406578616d706c652e636f6d0d0a0d0a28546869732061636b6e6f776c656467656d656e74207761732073656e74206175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e290d0a0d0a2d2d3d5f6d725f3537636231346139353365363261633833383331653731345f300d0a436f6e74656e742d547970653a20746578742f68746d6c3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a3c21444f43545950452068746d6c3e0d0a3c68746d6c3e3c626f6479207374796c653d334422666f6e742d66616d696c793a2073616e732d73657269663b206c696e652d6865696768743a20312e343b206d61782d77696474683a203d0d0a3430656d223e0d0a3c703e48656c6c6f20437573746f6d657220312c3c2f703e0d0a3c703e5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77203c7374726f6e673e74693d0d0a636b65742023313c2f7374726f6e673e3a3c62723e0d0a3c656d3e5072696e746572206f6e20666972653c2f656d3e3c2f703e0d0a0d0a3c68333e576861742068617070656e73206e6578743c2f68333e0d0a0d0a3c703e416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e73776572203c7374726f6e673e623d0d0a7920353a303120504d20555443206f6e20547565736461792c203120446563656d6265723c2f7374726f6e673e2e0d0a3c2f703e0d0a0d0a3c703e596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f2074686973206164647265733d0d0a732e3c2f703e0d0a0d0a3c68333e546f207370656564207468696e67732075703c2f68333e0d0a3c703e496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a3c2f703e0d0a3c756c3e0d0a3c6c693e7768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b3c2f6c693e0d0a3c6c693e746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b3c2f6c693e0d0a3c6c693e7768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b3c2f6c693e0d0a3c6c693e796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b3c2f6c3d0d0a693e0d0a3c6c693e616e797468696e6720796f75206861766520616c72656164792074726965642e3c2f6c693e0d0a3c2f756c3e0d0a0d0a0d0a3c68333e416464696e6720696e666f726d6174696f6e3c2f68333e0d0a3c703e5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a3c7374726f6e673e5b537570706f72742023315d3c2f7374726f6e673e20696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e73207468693d0d0a73207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e3c2f703e0d0a0d0a3c703e4578616d706c6520537570706f72743c62723e737570706f7274406578616d706c652e636f6d3c2f703e0d0a3c70207374796c653d334422636f6c6f723a20233636363b20666f6e742d73697a653a20736d616c6c6572223e546869732061636b6e6f776c656467656d656e74207761732073656e74203d0d0a6175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e3c2f703e0d0a3c2f626f64793e3c2f68746d6c3e0d0a0d0a2d2d3d5f6d725f3537636231346139353365363261633833383331653731345f302d2d0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:01:00', NULL, NULL, '2026-11-30 17:01:00', NULL);
INSERT INTO public.outbox_item VALUES (2, 'mail', 1, 3, '["team@example.com"]', '\x46726f6d3a20437573746f6d6572203120766961204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a207465616d406578616d706c652e636f6d0d0a5265706c792d546f3a20737570706f7274406578616d706c652e636f6d0d0a5375626a6563743a205b537570706f72742023315d205072696e746572206f6e20666972650d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30313a3030202b303030300d0a4d6573736167652d49443a203c6d722e312e322e66383031303165623532406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3140636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c6d722e312e312e39353362633235383336406578616d706c652e636f6d3e203c76342d3140636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d67656e6572617465640d0a582d4175746f2d526573706f6e73652d53757070726573733a20416c6c0d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a205072696e746572206f6e20666972650d0a5468726561642d496e6465783a204164324137462f644d51356c5663644c6151562f63474f5542464e3269673d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a4e6577207469636b65743a207469636b65742023312c205072696e746572206f6e20666972650d0a0d0a5265717565737465723a20437573746f6d65722031203c6a616e65406578616d706c652e6f72673e0d0a5072696f726974793a20205033202020205465616d3a2067656e6572616c202020205374617475733a206e65770d0a41737369676e65653a20206e6f626f6479207965740d0a4475653a20202020202020666972737420726573706f6e736520627920353a303120504d20555443206f6e20547565736461792c203120446563656d6265722028323032362d31322d30313d0d0a5431373a30313a30305a290d0a0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a46726f6d3a20202020437573746f6d65722031203c6a616e65406578616d706c652e6f72673e0d0a446174653a20202020323032362d31312d33305431373a30313a30305a0d0a5375626a6563743a205072696e746572206f6e20666972650d0a0d0a4974206973206f6e20666972652c20706c656173652068656c702e0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a0d0a5265706c7920746f2074686973206d61696c20746f20616e737765722074686520637573746f6d65723a20796f7572206e657720746578742069732072656c6179656420746f207468656d0d0a66726f6d20737570706f7274406578616d706c652e636f6d2e204c696e657320617420746865207665727920746f70207374617274696e67207769746820232061726520636f6d6d616e643d0d0a733a0d0a236e6f74652028696e7465726e616c206f6e6c79292c2023686f6c64696e672c2023737461747573206f70656e7c70656e64696e677c736f6c7665647c636c6f7365642c0d0a237072696f726974792050312e2e50352c202361737369676e20414444524553532c20237465616d204e414d452c2023746167204e414d452c202370616765205445414d20746578742c0d0a236d65726765205449434b4554202874686973206f6e652069732061206475706c6963617465206f66205449434b4554292e0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:01:00', NULL, NULL, '2026-11-30 17:01:00', NULL);
INSERT INTO public.outbox_item VALUES (3, 'mail', 2, 5, '["bob@bigcorp.com"]', '\x46726f6d3a204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a20626f6240626967636f72702e636f6d0d0a5375626a6563743a2052653a205b537570706f72742023325d20496e766f69636520323032362d31312069732077726f6e670d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30323a3030202b303030300d0a4d6573736167652d49443a203c6d722e322e332e39343635306166353061406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3240636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c76342d3240636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d7265706c6965640d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a20496e766f69636520323032362d31312069732077726f6e670d0a5468726561642d496e6465783a204164324137494f687051444b636e50476e704d64437a757a5166457730413d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a206d756c7469706172742f616c7465726e61746976653b0d0a20626f756e646172793d223d5f6d725f6135303063613732373363363965393331643062336262335f30220d0a0d0a2d2d3d5f6d725f6135303063613732373363363965393331643062336262335f300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a48656c6c6f20437573746f6d657220322c0d0a0d0a5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77207469636b65742023323a0d0a0d0a20202020496e766f69636520323032362d31312069732077726f6e670d0a0d0a574841542048415050454e53204e4558540d0a0d0a416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e7377657220627920393a303220504d20553d0d0a5443206f6e204d6f6e6461792c203330204e6f76656d6265722e0d0a596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f207468697320616464726573732e0d0a0d0a544f205350454544205448494e47532055500d0a0d0a496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a0d0a20202d207768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b0d0a20202d20746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b0d0a20202d207768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b0d0a20202d20796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b0d0a20202d20616e797468696e6720796f75206861766520616c72656164792074726965642e0d0a0d0a414444494e4720494e464f524d4154494f4e0d0a0d0a5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a225b537570706f72742023325d2220696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e732074686973207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e0d0a0d0a4578616d706c6520537570706f72740d0a737570706f7274406578616d706c652e636f6d0d0a0d0a28546869732061636b6e6f776c656467656d656e74207761732073656e74206175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e290d0a0d0a2d2d3d5f6d725f6135303063613732373363363965393331643062336262335f300d0a436f6e74656e742d547970653a20746578742f68746d6c3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a3c21444f43545950452068746d6c3e0d0a3c68746d6c3e3c626f6479207374796c653d334422666f6e742d66616d696c793a2073616e732d73657269663b206c696e652d6865696768743a20312e343b206d61782d77696474683a203d0d0a3430656d223e0d0a3c703e48656c6c6f20437573746f6d657220322c3c2f703e0d0a3c703e5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77203c7374726f6e673e74693d0d0a636b65742023323c2f7374726f6e673e3a3c62723e0d0a3c656d3e496e766f69636520323032362d31312069732077726f6e673c2f656d3e3c2f703e0d0a0d0a3c68333e576861742068617070656e73206e6578743c2f68333e0d0a0d0a3c703e416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e73776572203c7374726f6e673e623d0d0a7920393a303220504d20555443206f6e204d6f6e6461792c203330204e6f76656d6265723c2f7374726f6e673e2e0d0a3c2f703e0d0a0d0a3c703e596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f2074686973206164647265733d0d0a732e3c2f703e0d0a0d0a3c68333e546f207370656564207468696e67732075703c2f68333e0d0a3c703e496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a3c2f703e0d0a3c756c3e0d0a3c6c693e7768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b3c2f6c693e0d0a3c6c693e746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b3c2f6c693e0d0a3c6c693e7768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b3c2f6c693e0d0a3c6c693e796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b3c2f6c3d0d0a693e0d0a3c6c693e616e797468696e6720796f75206861766520616c72656164792074726965642e3c2f6c693e0d0a3c2f756c3e0d0a0d0a0d0a3c68333e416464696e6720696e666f726d6174696f6e3c2f68333e0d0a3c703e5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a3c7374726f6e673e5b537570706f72742023325d3c2f7374726f6e673e20696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e73207468693d0d0a73207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e3c2f703e0d0a0d0a3c703e4578616d706c6520537570706f72743c62723e737570706f7274406578616d706c652e636f6d3c2f703e0d0a3c70207374796c653d334422636f6c6f723a20233636363b20666f6e742d73697a653a20736d616c6c6572223e546869732061636b6e6f776c656467656d656e74207761732073656e74203d0d0a6175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e3c2f703e0d0a3c2f626f64793e3c2f68746d6c3e0d0a0d0a2d2d3d5f6d725f6135303063613732373363363965393331643062336262335f302d2d0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:02:00', NULL, NULL, '2026-11-30 17:02:00', NULL);
INSERT INTO public.outbox_item VALUES (4, 'mail', 2, 6, '["billing-team@example.com"]', '\x46726f6d3a20437573746f6d6572203220766961204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a2062696c6c696e672d7465616d406578616d706c652e636f6d0d0a5265706c792d546f3a20737570706f7274406578616d706c652e636f6d0d0a5375626a6563743a205b537570706f72742023325d20496e766f69636520323032362d31312069732077726f6e670d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30323a3030202b303030300d0a4d6573736167652d49443a203c6d722e322e342e32303533326238343438406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3240636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c6d722e322e332e39343635306166353061406578616d706c652e636f6d3e203c76342d3240636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d67656e6572617465640d0a582d4175746f2d526573706f6e73652d53757070726573733a20416c6c0d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a20496e766f69636520323032362d31312069732077726f6e670d0a5468726561642d496e6465783a204164324137494f687653355553385a6d7972736b71366d614246754474413d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a4e6577207469636b65743a207469636b65742023322c20496e766f69636520323032362d31312069732077726f6e670d0a0d0a5265717565737465723a20437573746f6d65722032203c626f6240626967636f72702e636f6d3e0d0a5072696f726974793a20205032202020205465616d3a2062696c6c696e67202020205374617475733a206e65770d0a41737369676e65653a20206e6f626f6479207965740d0a4475653a20202020202020666972737420726573706f6e736520627920393a303220504d20555443206f6e204d6f6e6461792c203330204e6f76656d6265722028323032362d31312d33303d0d0a5432313a30323a30305a290d0a0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a46726f6d3a20202020437573746f6d65722032203c626f6240626967636f72702e636f6d3e0d0a446174653a20202020323032362d31312d33305431373a30323a30305a0d0a5375626a6563743a20496e766f69636520323032362d31312069732077726f6e670d0a0d0a5765207765726520636861726765642074776963652e0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a0d0a5265706c7920746f2074686973206d61696c20746f20616e737765722074686520637573746f6d65723a20796f7572206e657720746578742069732072656c6179656420746f207468656d0d0a66726f6d20737570706f7274406578616d706c652e636f6d2e204c696e657320617420746865207665727920746f70207374617274696e67207769746820232061726520636f6d6d616e643d0d0a733a0d0a236e6f74652028696e7465726e616c206f6e6c79292c2023686f6c64696e672c2023737461747573206f70656e7c70656e64696e677c736f6c7665647c636c6f7365642c0d0a237072696f726974792050312e2e50352c202361737369676e20414444524553532c20237465616d204e414d452c2023746167204e414d452c202370616765205445414d20746578742c0d0a236d65726765205449434b4554202874686973206f6e652069732061206475706c6963617465206f66205449434b4554292e0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:02:00', NULL, NULL, '2026-11-30 17:02:00', NULL);
INSERT INTO public.outbox_item VALUES (5, 'mail', 3, 8, '["carla@example.net"]', '\x46726f6d3a204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a206361726c61406578616d706c652e6e65740d0a5375626a6563743a2052653a205b537570706f72742023335d2050617373776f726420726573657420646f6573206e6f74206172726976650d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30333a3030202b303030300d0a4d6573736167652d49443a203c6d722e332e352e66306265663930653839406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3340636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c76342d3340636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d7265706c6965640d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a2050617373776f726420726573657420646f6573206e6f74206172726976650d0a5468726561642d496e6465783a2041643241374b646b2f755336727956577934766e733455376143764342673d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a206d756c7469706172742f616c7465726e61746976653b0d0a20626f756e646172793d223d5f6d725f6665653462616166323535366362386265376233383533625f30220d0a0d0a2d2d3d5f6d725f6665653462616166323535366362386265376233383533625f300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a48656c6c6f20437573746f6d657220332c0d0a0d0a5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77207469636b65742023333a0d0a0d0a2020202050617373776f726420726573657420646f6573206e6f74206172726976650d0a0d0a574841542048415050454e53204e4558540d0a0d0a416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e7377657220627920353a303320504d20553d0d0a5443206f6e20547565736461792c203120446563656d6265722e0d0a596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f207468697320616464726573732e0d0a0d0a544f205350454544205448494e47532055500d0a0d0a496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a0d0a20202d207768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b0d0a20202d20746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b0d0a20202d207768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b0d0a20202d20796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b0d0a20202d20616e797468696e6720796f75206861766520616c72656164792074726965642e0d0a0d0a414444494e4720494e464f524d4154494f4e0d0a0d0a5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a225b537570706f72742023335d2220696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e732074686973207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e0d0a0d0a4578616d706c6520537570706f72740d0a737570706f7274406578616d706c652e636f6d0d0a0d0a28546869732061636b6e6f776c656467656d656e74207761732073656e74206175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e290d0a0d0a2d2d3d5f6d725f6665653462616166323535366362386265376233383533625f300d0a436f6e74656e742d547970653a20746578742f68746d6c3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a3c21444f43545950452068746d6c3e0d0a3c68746d6c3e3c626f6479207374796c653d334422666f6e742d66616d696c793a2073616e732d73657269663b206c696e652d6865696768743a20312e343b206d61782d77696474683a203d0d0a3430656d223e0d0a3c703e48656c6c6f20437573746f6d657220332c3c2f703e0d0a3c703e5468616e6b20796f7520666f722077726974696e6720746f204578616d706c6520537570706f72742e20596f75722072657175657374206973206e6f77203c7374726f6e673e74693d0d0a636b65742023333c2f7374726f6e673e3a3c62723e0d0a3c656d3e50617373776f726420726573657420646f6573206e6f74206172726976653c2f656d3e3c2f703e0d0a0d0a3c68333e576861742068617070656e73206e6578743c2f68333e0d0a0d0a3c703e416e20656e67696e6565722077696c6c207265616420796f7572206d65737361676520616e642073656e6420796f75206120666972737420616e73776572203c7374726f6e673e623d0d0a7920353a303320504d20555443206f6e20547565736461792c203120446563656d6265723c2f7374726f6e673e2e0d0a3c2f703e0d0a0d0a3c703e596f7520646f206e6f74206e65656420746f20777269746520616761696e3a206f757220616e7377657220636f6d6573206279206d61696c2c20746f2074686973206164647265733d0d0a732e3c2f703e0d0a0d0a3c68333e546f207370656564207468696e67732075703c2f68333e0d0a3c703e496620796f752068617665206e6f7420616c726561647920746f6c642075732c207265706c792077697468207768617465766572206170706c6965733a3c2f703e0d0a3c756c3e0d0a3c6c693e7768617420796f75207765726520747279696e6720746f20646f2c20616e6420776861742068617070656e656420696e73746561643b3c2f6c693e0d0a3c6c693e746865206578616374206572726f72206d6573736167652c20616e6420612073637265656e73686f7420696620796f752063616e3b3c2f6c693e0d0a3c6c693e7768656e20697420737461727465642c20616e6420776865746865722069742068617070656e732065766572792074696d653b3c2f6c693e0d0a3c6c693e796f7572206163636f756e74206e616d652c206f72646572206e756d626572206f72207468652061646472657373206f662074686520616666656374656420706167653b3c2f6c3d0d0a693e0d0a3c6c693e616e797468696e6720796f75206861766520616c72656164792074726965642e3c2f6c693e0d0a3c2f756c3e0d0a0d0a0d0a3c68333e416464696e6720696e666f726d6174696f6e3c2f68333e0d0a3c703e5265706c7920746f2074686973206d61696c20746f2061646420616e797468696e672c206174746163686d656e747320696e636c756465642e20506c65617365206b6565700d0a3c7374726f6e673e5b537570706f72742023335d3c2f7374726f6e673e20696e20746865207375626a65637420736f207468617420796f7572206d657373616765206a6f696e73207468693d0d0a73207469636b65742c0d0a726174686572207468616e207374617274696e672061206e6577206f6e652e3c2f703e0d0a0d0a3c703e4578616d706c6520537570706f72743c62723e737570706f7274406578616d706c652e636f6d3c2f703e0d0a3c70207374796c653d334422636f6c6f723a20233636363b20666f6e742d73697a653a20736d616c6c6572223e546869732061636b6e6f776c656467656d656e74207761732073656e74203d0d0a6175746f6d61746963616c6c793b206120706572736f6e2077696c6c20616e7377657220796f752e3c2f703e0d0a3c2f626f64793e3c2f68746d6c3e0d0a0d0a2d2d3d5f6d725f6665653462616166323535366362386265376233383533625f302d2d0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:03:00', NULL, NULL, '2026-11-30 17:03:00', NULL);
INSERT INTO public.outbox_item VALUES (6, 'mail', 3, 9, '["team@example.com"]', '\x46726f6d3a20437573746f6d6572203320766961204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a207465616d406578616d706c652e636f6d0d0a5265706c792d546f3a20737570706f7274406578616d706c652e636f6d0d0a5375626a6563743a205b537570706f72742023335d2050617373776f726420726573657420646f6573206e6f74206172726976650d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30333a3030202b303030300d0a4d6573736167652d49443a203c6d722e332e362e35323966376238643338406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3340636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c6d722e332e352e66306265663930653839406578616d706c652e636f6d3e203c76342d3340636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d67656e6572617465640d0a582d4175746f2d526573706f6e73652d53757070726573733a20416c6c0d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a2050617373776f726420726573657420646f6573206e6f74206172726976650d0a5468726561642d496e6465783a2041643241374b646b4e3077344d75346c4955726259724f64596f6f6762413d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a4e6577207469636b65743a207469636b65742023332c2050617373776f726420726573657420646f6573206e6f74206172726976650d0a0d0a5265717565737465723a20437573746f6d65722033203c6361726c61406578616d706c652e6e65743e0d0a5072696f726974793a20205033202020205465616d3a2067656e6572616c202020205374617475733a206e65770d0a41737369676e65653a20206e6f626f6479207965740d0a4475653a20202020202020666972737420726573706f6e736520627920353a303320504d20555443206f6e20547565736461792c203120446563656d6265722028323032362d31322d30313d0d0a5431373a30333a30305a290d0a0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a46726f6d3a20202020437573746f6d65722033203c6361726c61406578616d706c652e6e65743e0d0a446174653a20202020323032362d31312d33305431373a30333a30305a0d0a5375626a6563743a2050617373776f726420726573657420646f6573206e6f74206172726976650d0a0d0a4e6f206d61696c2061667465722074687265652074726965732e0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a0d0a5265706c7920746f2074686973206d61696c20746f20616e737765722074686520637573746f6d65723a20796f7572206e657720746578742069732072656c6179656420746f207468656d0d0a66726f6d20737570706f7274406578616d706c652e636f6d2e204c696e657320617420746865207665727920746f70207374617274696e67207769746820232061726520636f6d6d616e643d0d0a733a0d0a236e6f74652028696e7465726e616c206f6e6c79292c2023686f6c64696e672c2023737461747573206f70656e7c70656e64696e677c736f6c7665647c636c6f7365642c0d0a237072696f726974792050312e2e50352c202361737369676e20414444524553532c20237465616d204e414d452c2023746167204e414d452c202370616765205445414d20746578742c0d0a236d65726765205449434b4554202874686973206f6e652069732061206475706c6963617465206f66205449434b4554292e0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:03:00', NULL, NULL, '2026-11-30 17:03:00', NULL);
INSERT INTO public.outbox_item VALUES (7, 'mail', 1, 12, '["team@example.com"]', '\x46726f6d3a20437573746f6d6572203520766961204578616d706c6520537570706f7274203c737570706f7274406578616d706c652e636f6d3e0d0a546f3a207465616d406578616d706c652e636f6d0d0a5265706c792d546f3a20737570706f7274406578616d706c652e636f6d0d0a5375626a6563743a205b537570706f72742023315d205072696e746572206f6e20666972650d0a446174653a204d6f6e2c203330204e6f7620323032362031373a30353a3030202b303030300d0a4d6573736167652d49443a203c6d722e312e372e37613766666134353030406578616d706c652e636f6d3e0d0a496e2d5265706c792d546f3a203c76342d3540636c69656e742e6578616d706c652e6f72673e0d0a5265666572656e6365733a203c76342d3140636c69656e742e6578616d706c652e6f72673e203c6d722e312e312e39353362633235383336406578616d706c652e636f6d3e0d0a203c6d722e312e322e66383031303165623532406578616d706c652e636f6d3e203c76342d3540636c69656e742e6578616d706c652e6f72673e0d0a4175746f2d5375626d69747465643a206175746f2d67656e6572617465640d0a582d4175746f2d526573706f6e73652d53757070726573733a20416c6c0d0a582d4c6f6f703a20737570706f7274406578616d706c652e636f6d0d0a5468726561642d546f7069633a205072696e746572206f6e20666972650d0a5468726561642d496e6465783a2041643241374f3772696b4f614978772f497635534d534b305357794f45773d3d0d0a4d494d452d56657273696f6e3a20312e300d0a436f6e74656e742d547970653a20746578742f706c61696e3b20636861727365743d227574662d38220d0a436f6e74656e742d5472616e736665722d456e636f64696e673a2071756f7465642d7072696e7461626c650d0a0d0a437573746f6d6572207265706c6965643a207469636b65742023312c205072696e746572206f6e20666972650d0a0d0a5265717565737465723a20437573746f6d65722031203c6a616e65406578616d706c652e6f72673e0d0a5072696f726974793a20205033202020205465616d3a2067656e6572616c202020205374617475733a206e65770d0a41737369676e65653a20206e6f626f6479207965740d0a4475653a20202020202020666972737420726573706f6e736520627920353a303120504d20555443206f6e20547565736461792c203120446563656d6265722028323032362d31322d30313d0d0a5431373a30313a30305a290d0a0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a46726f6d3a20202020437573746f6d65722035203c6a616e65406578616d706c652e6f72673e0d0a446174653a20202020323032362d31312d33305431373a30353a30305a0d0a5375626a6563743a2052653a205072696e746572206f6e20666972650d0a0d0a5374696c6c206275726e696e672e0d0a2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d0d0a0d0a5265706c7920746f2074686973206d61696c20746f20616e737765722074686520637573746f6d65723a20796f7572206e657720746578742069732072656c6179656420746f207468656d0d0a66726f6d20737570706f7274406578616d706c652e636f6d2e204c696e657320617420746865207665727920746f70207374617274696e67207769746820232061726520636f6d6d616e643d0d0a733a0d0a236e6f74652028696e7465726e616c206f6e6c79292c2023686f6c64696e672c2023737461747573206f70656e7c70656e64696e677c736f6c7665647c636c6f7365642c0d0a237072696f726974792050312e2e50352c202361737369676e20414444524553532c20237465616d204e414d452c2023746167204e414d452c202370616765205445414d20746578742c0d0a236d65726765205449434b4554202874686973206f6e652069732061206475706c6963617465206f66205449434b4554292e0d0a', NULL, NULL, NULL, 'queued', 0, '2026-11-30 17:05:00', NULL, NULL, '2026-11-30 17:05:00', NULL);


--
-- Data for Name: page; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: participant; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.participant VALUES (1, 1, 'jane@example.org', 'customer');
INSERT INTO public.participant VALUES (2, 2, 'bob@bigcorp.com', 'customer');
INSERT INTO public.participant VALUES (3, 3, 'carla@example.net', 'customer');


--
-- Data for Name: quarantined; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: rating; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: setting; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.setting VALUES ('schema_version', '4');


--
-- Data for Name: survey; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: ticket; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.ticket VALUES (2, 'Invoice 2026-11 is wrong', 'new', 'P2', 'billing', '["billing"]', 'bob@bigcorp.com', 'Customer 2', NULL, NULL, 'mail', '{"ack": "ack", "links": [], "notify": [], "page": false, "policy_name": "P2", "rules": ["invoices"], "sla_override": null, "survey": true}', NULL, NULL, NULL, 'support@example.com', '2026-11-30 17:02:00', '2026-11-30 17:02:00', NULL, NULL, NULL);
INSERT INTO public.ticket VALUES (3, 'Password reset does not arrive', 'new', 'P3', 'general', '[]', 'carla@example.net', 'Customer 3', NULL, NULL, 'mail', '{"ack": "ack", "links": [], "notify": [], "page": false, "policy_name": "P3", "rules": [], "sla_override": null, "survey": true}', NULL, NULL, NULL, 'support@example.com', '2026-11-30 17:03:00', '2026-11-30 17:03:00', NULL, NULL, NULL);
INSERT INTO public.ticket VALUES (1, 'Printer on fire', 'new', 'P3', 'general', '[]', 'jane@example.org', 'Customer 1', NULL, NULL, 'mail', '{"ack": "ack", "links": [], "notify": [], "page": false, "policy_name": "P3", "rules": [], "sla_override": null, "survey": true}', NULL, NULL, NULL, 'support@example.com', '2026-11-30 17:01:00', '2026-11-30 17:05:00', NULL, NULL, NULL);


--
-- Name: attachment_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.attachment_id_seq', 1, false);


--
-- Name: clock_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.clock_id_seq', 6, true);


--
-- Name: event_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.event_id_seq', 6, true);


--
-- Name: message_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.message_id_seq', 12, true);


--
-- Name: outbox_item_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.outbox_item_id_seq', 7, true);


--
-- Name: page_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.page_id_seq', 1, false);


--
-- Name: participant_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.participant_id_seq', 4, true);


--
-- Name: quarantined_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.quarantined_id_seq', 1, false);


--
-- Name: rating_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.rating_id_seq', 1, false);


--
-- Name: survey_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.survey_id_seq', 1, false);


--
-- Name: ticket_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.ticket_id_seq', 3, true);


--
-- Name: attachment attachment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_pkey PRIMARY KEY (id);


--
-- Name: clock clock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clock
    ADD CONSTRAINT clock_pkey PRIMARY KEY (id);


--
-- Name: event event_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event
    ADD CONSTRAINT event_pkey PRIMARY KEY (id);


--
-- Name: mailbox mailbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.mailbox
    ADD CONSTRAINT mailbox_pkey PRIMARY KEY (name);


--
-- Name: message message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_pkey PRIMARY KEY (id);


--
-- Name: outbox_item outbox_item_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_item
    ADD CONSTRAINT outbox_item_pkey PRIMARY KEY (id);


--
-- Name: page page_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.page
    ADD CONSTRAINT page_pkey PRIMARY KEY (id);


--
-- Name: participant participant_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.participant
    ADD CONSTRAINT participant_pkey PRIMARY KEY (id);


--
-- Name: quarantined quarantined_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.quarantined
    ADD CONSTRAINT quarantined_pkey PRIMARY KEY (id);


--
-- Name: rating rating_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rating
    ADD CONSTRAINT rating_pkey PRIMARY KEY (id);


--
-- Name: setting setting_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.setting
    ADD CONSTRAINT setting_pkey PRIMARY KEY (key);


--
-- Name: survey survey_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_pkey PRIMARY KEY (id);


--
-- Name: ticket ticket_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_pkey PRIMARY KEY (id);


--
-- Name: attachment_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX attachment_message_id ON public.attachment USING btree (message_id);


--
-- Name: clock_state_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clock_state_due_at ON public.clock USING btree (state, due_at);


--
-- Name: clock_state_warn_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clock_state_warn_at ON public.clock USING btree (state, warn_at);


--
-- Name: clock_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clock_ticket_id ON public.clock USING btree (ticket_id);


--
-- Name: clock_ticket_id_metric; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clock_ticket_id_metric ON public.clock USING btree (ticket_id, metric);


--
-- Name: clock_ticket_id_state_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX clock_ticket_id_state_due_at ON public.clock USING btree (ticket_id, state, due_at);


--
-- Name: event_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX event_ticket_id ON public.event USING btree (ticket_id);


--
-- Name: event_ticket_id_at_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX event_ticket_id_at_id ON public.event USING btree (ticket_id, at, id);


--
-- Name: message_direction_kind_received_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_direction_kind_received_at ON public.message USING btree (direction, kind, received_at);


--
-- Name: message_mailbox_uidvalidity_uid; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX message_mailbox_uidvalidity_uid ON public.message USING btree (mailbox, uidvalidity, uid);


--
-- Name: message_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_message_id ON public.message USING btree (message_id);


--
-- Name: message_message_id_content_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX message_message_id_content_key ON public.message USING btree (message_id, content_key);


--
-- Name: message_rcpt_kind_received_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_rcpt_kind_received_at ON public.message USING btree (rcpt, kind, received_at);


--
-- Name: message_received_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_received_at ON public.message USING btree (received_at);


--
-- Name: message_search; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_search ON public.message USING gin (to_tsvector('simple'::regconfig, ((COALESCE(subject, ''::text) || ' '::text) || COALESCE(NULLIF(new_text, ''::text), text, ''::text)))) WHERE ((direction)::text = 'inbound'::text);


--
-- Name: message_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_ticket_id ON public.message USING btree (ticket_id);


--
-- Name: message_ticket_id_received_at_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX message_ticket_id_received_at_id ON public.message USING btree (ticket_id, received_at, id);


--
-- Name: outbox_item_alias; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_item_alias ON public.outbox_item USING btree (alias);


--
-- Name: outbox_item_message_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_item_message_id ON public.outbox_item USING btree (message_id);


--
-- Name: outbox_item_state_kind_next_attempt_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_item_state_kind_next_attempt_at ON public.outbox_item USING btree (state, kind, next_attempt_at);


--
-- Name: outbox_item_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_item_ticket_id ON public.outbox_item USING btree (ticket_id);


--
-- Name: page_alias; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX page_alias ON public.page USING btree (alias);


--
-- Name: page_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX page_ticket_id ON public.page USING btree (ticket_id);


--
-- Name: participant_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX participant_ticket_id ON public.participant USING btree (ticket_id);


--
-- Name: participant_ticket_id_address; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX participant_ticket_id_address ON public.participant USING btree (ticket_id, address);


--
-- Name: quarantined_content_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX quarantined_content_key ON public.quarantined USING btree (content_key);


--
-- Name: quarantined_mailbox_uidvalidity_uid; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX quarantined_mailbox_uidvalidity_uid ON public.quarantined USING btree (mailbox, uidvalidity, uid);


--
-- Name: rating_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX rating_at ON public.rating USING btree (at);


--
-- Name: rating_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX rating_ticket_id ON public.rating USING btree (ticket_id);


--
-- Name: survey_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX survey_due_at ON public.survey USING btree (due_at);


--
-- Name: survey_ticket_id; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX survey_ticket_id ON public.survey USING btree (ticket_id);


--
-- Name: ticket_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_created_at ON public.ticket USING btree (created_at);


--
-- Name: ticket_requester; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_requester ON public.ticket USING btree (requester);


--
-- Name: ticket_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_status ON public.ticket USING btree (status);


--
-- Name: ticket_status_created_at_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_status_created_at_id ON public.ticket USING btree (status, created_at, id);


--
-- Name: ticket_status_solved_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_status_solved_at ON public.ticket USING btree (status, solved_at);


--
-- Name: ticket_team; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_team ON public.ticket USING btree (team);


--
-- Name: ticket_team_created_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ticket_team_created_at ON public.ticket USING btree (team, created_at);


--
-- Name: attachment attachment_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.message(id) ON DELETE CASCADE;


--
-- Name: clock clock_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.clock
    ADD CONSTRAINT clock_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: event event_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.event
    ADD CONSTRAINT event_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: message message_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.message
    ADD CONSTRAINT message_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: outbox_item outbox_item_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_item
    ADD CONSTRAINT outbox_item_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.message(id) ON DELETE SET NULL;


--
-- Name: outbox_item outbox_item_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_item
    ADD CONSTRAINT outbox_item_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: page page_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.page
    ADD CONSTRAINT page_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: participant participant_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.participant
    ADD CONSTRAINT participant_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: rating rating_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rating
    ADD CONSTRAINT rating_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: survey survey_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict g7VhCQ9bGmdcHyEl77zIs5qpDBhPYrOUOS4vdaWO4nME8nMHpLY6IpvPXphrin5

