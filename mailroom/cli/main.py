"""The command line: parse arguments, load settings, call the service; errors as one line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import peewee

from mailroom.errors import MailroomError, RulesError


def _parser() -> argparse.ArgumentParser:
    # --config is accepted before the command and after it: each subparser knows it too.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="path to mailroom.toml")
    parser = argparse.ArgumentParser(
        prog="mailroom",
        description="A support mailbox processor: IMAP in, threaded tickets, SLA clocks, acknowledgements and escalation out.",
    )
    parser.add_argument("--config", default=None, help="path to mailroom.toml (default $MAILROOM_CONFIG, else ./mailroom.toml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", parents=[common], help="the daemon (IMAP IDLE or polling, SLA checks, outbox)")
    run.add_argument("--once", action="store_true", help="one full cycle, then exit 0")
    run.add_argument("--log-format", choices=("text", "json"), default="text")

    rules = sub.add_parser("rules", parents=[common], help="validate rules.yaml or explain a routing")
    rsub = rules.add_subparsers(dest="rules_command", required=True, metavar="check|explain")
    check = rsub.add_parser("check", parents=[common], help="validate and run the inline tests; exit 1 on any error")
    check.add_argument("path", nargs="?")
    explain = rsub.add_parser("explain", parents=[common], help="which rules match a message, and the result")
    explain.add_argument("file")
    explain.add_argument("--json", action="store_true")
    explain.add_argument("--mailbox", metavar="NAME", help="as read from this mailbox (its name in mailroom.toml)")

    tickets = sub.add_parser("tickets", parents=[common], help="list or show tickets")
    tsub = tickets.add_subparsers(dest="tickets_command", required=True, metavar="list|show")
    tlist = tsub.add_parser("list", parents=[common], help="every ticket, oldest first")
    tlist.add_argument("--status", choices=("new", "open", "pending", "solved", "closed"))
    tlist.add_argument("--json", action="store_true")
    tshow = tsub.add_parser("show", parents=[common], help="one ticket with its messages, clocks and events")
    tshow.add_argument("id", type=int)
    tshow.add_argument("--json", action="store_true")

    tmerge = tsub.add_parser("merge", parents=[common], help="merge ticket FROM into ticket INTO (its customers told once)")
    tmerge.add_argument("source", type=int, metavar="FROM")
    tmerge.add_argument("target", type=int, metavar="INTO")
    tsearch = tsub.add_parser("search", parents=[common], help="tickets whose mail holds every word of TEXT, best first")
    tsearch.add_argument("text", nargs="+")
    tsearch.add_argument("--status", choices=("new", "open", "pending", "solved", "closed"))
    tsearch.add_argument("--limit", type=int, default=20)
    tsearch.add_argument("--json", action="store_true")

    report = sub.add_parser("report", parents=[common], help="SLA achievement and CSAT")
    report.add_argument("--since", help="YYYY-MM-DD (UTC)")
    report.add_argument("--until", help="YYYY-MM-DD (UTC, inclusive)")
    report.add_argument("--team")
    report.add_argument("--mailbox", metavar="NAME", help="only tickets that came in on this mailbox (its name in mailroom.toml)")
    report.add_argument("--json", action="store_true")
    report.add_argument("--html", metavar="FILE")

    quarantine = sub.add_parser("quarantine", parents=[common], help="mail that could not be processed")
    qsub = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="list|replay")
    qlist = qsub.add_parser("list", parents=[common], help="what is in quarantine, and why")
    qlist.add_argument("--json", action="store_true")
    qlist.add_argument("--mailbox", metavar="NAME", help="only this mailbox's quarantine (default: every mailbox's)")
    qreplay = qsub.add_parser("replay", parents=[common], help="move UID (or all) back to be processed again")
    qreplay.add_argument("uid")
    qreplay.add_argument("--mailbox", metavar="NAME", help="whose quarantine (needed when there are several mailboxes)")

    status = sub.add_parser("status", parents=[common], help="health: last poll, backlog, outbox, breaches, rules")
    status.add_argument("--json", action="store_true")

    auth = sub.add_parser("auth", parents=[common], help="a user's OAuth2 sign-in (flow = \"device_code\")")
    asub = auth.add_subparsers(dest="auth_command", required=True, metavar="login|status")
    alogin = asub.add_parser("login", parents=[common], help="print a code and a URL, wait for the user to sign in, keep the sign-in")
    alogin.add_argument("--json", action="store_true")
    astatus = asub.add_parser("status", parents=[common], help="who is signed in for each OAuth2 connection, and until when")
    astatus.add_argument("--json", action="store_true")

    imp = sub.add_parser("import", parents=[common], help="import an mbox or Maildir of past support mail")
    imp.add_argument("path")
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from mailroom.config.loader import load_settings, resolve_config_path

    return load_settings(resolve_config_path(args.config, os.environ))


def _open_store(settings: Any) -> None:
    from mailroom.store.queries import open_store

    open_store(settings)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `mailroom` command."""
    # Everything mailroom writes holds customer mail or secrets: private, whatever the caller's umask.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except RulesError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return 1
    except MailroomError as exc:
        print(f"mailroom: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 1
    except peewee.DatabaseError as exc:
        print(f"mailroom: database: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `mailroom report | head`
        return 0
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "rules":
        from mailroom.cli import rules as rulescli

        if args.rules_command == "check":
            settings = _settings_or_none(args)
            return rulescli.check(Path(args.path) if args.path else None, settings)
        return rulescli.explain(Path(args.file), _settings_or_none(args), as_json=args.json, mailbox=args.mailbox)
    settings = _settings(args)
    if args.command == "run":
        from mailroom.daemon import worker as daemon

        return daemon.main(settings, once=args.once, log_format=args.log_format)
    if args.command == "auth":
        return _auth(args, settings)
    if args.command in ("quarantine", "status", "import"):
        settings.require_connection_secrets()
    _open_store(settings)
    if args.command == "tickets":
        return _tickets(args)
    if args.command == "report":
        from mailroom.cli import report as reportcli

        return reportcli.main(settings, args)
    if args.command == "quarantine":
        from mailroom.cli import quarantine

        if args.quarantine_command == "list":
            return quarantine.list_command(settings, as_json=args.json, mailbox=args.mailbox)
        return quarantine.replay_command(settings, args.uid, mailbox=args.mailbox)
    if args.command == "status":
        from mailroom.cli import status

        return status.status_command(settings, as_json=args.json)
    if args.command == "import":
        from mailroom.app import importer
        from mailroom.daemon.wiring import build_service

        return importer.import_command(build_service(settings), settings, Path(args.path))
    raise AssertionError(args.command)


def _auth(args: argparse.Namespace, settings: Any) -> int:
    from mailroom.cli import auth

    if args.auth_command == "login":  # needs no database: the sign-in is kept beside it, in data_dir
        return auth.login_command(settings, as_json=args.json)
    from mailroom.store import signins

    _open_store(settings)
    recorded = {state.connection: state for state in signins.load()}
    return auth.status_command(settings, recorded, as_json=args.json)


def _settings_or_none(args: argparse.Namespace) -> Any:
    """Settings when a config is given or present; `rules check` also works without one."""
    from mailroom.config.loader import resolve_config_path

    path = resolve_config_path(args.config, os.environ)
    if args.config is None and not path.exists():
        return None
    return _settings(args)


def _tickets(args: argparse.Namespace) -> int:
    from mailroom.cli.views import LINE_FIELDS, ticket_json, ticket_line, ticket_text
    from mailroom.errors import MailroomError
    from mailroom.store.models import Ticket

    if args.tickets_command == "merge":
        return _merge(args)
    if args.tickets_command == "search":
        from mailroom.cli.views import found_json, found_line
        from mailroom.store.search import search_tickets, tickets_by_id

        found = search_tickets(" ".join(args.text), limit=max(1, args.limit),
                               statuses=(args.status,) if args.status else ())
        shown = tickets_by_id([f.ticket_id for f in found])
        if args.json:
            _print_json([found_json(shown[f.ticket_id], f) for f in found])
        else:
            for hit in found:
                print(found_line(shown[hit.ticket_id], hit))
        return 0
    if args.tickets_command == "show":
        ticket = Ticket.get_or_none(Ticket.id == args.id)
        if ticket is None:
            raise MailroomError(f"no ticket #{args.id}")
        data = ticket_json(ticket)
        if args.json:
            _print_json(data)
        else:
            print(ticket_text(data))
        return 0
    # The text lines read their columns only, as tuples, printed at once: model rows with every
    # column (JSON decoded) cost more than the query itself over the thousands of open tickets of a year.
    query = Ticket.select() if args.json else Ticket.select(*LINE_FIELDS).tuples()
    query = (query.where(Ticket.status == args.status) if args.status else query).order_by(Ticket.created_at, Ticket.id)
    if args.json:
        _print_json([ticket_json(t) for t in query])
    else:
        sys.stdout.write("".join(ticket_line(*row) + "\n" for row in query))
    return 0


def _merge(args: argparse.Namespace) -> int:
    from mailroom.app import merging
    from mailroom.daemon.wiring import build_service
    from mailroom.errors import MailroomError
    from mailroom.store.models import Ticket, database

    ctx = build_service(_settings(args)).context()
    with database.atomic():
        source = Ticket.get_or_none(Ticket.id == args.source)
        if source is None:
            raise MailroomError(f"no ticket #{args.source}")
        target = Ticket.get_or_none(Ticket.id == args.target)
        why = merging.refusal(source, target, args.target)
        if why or target is None:
            raise MailroomError(f"cannot merge #{args.source} into #{args.target}: {why}")
        merging.merge(ctx, source, target, "mailroom tickets merge")
    print(f"merged #{args.source} into #{args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
