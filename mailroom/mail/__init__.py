"""Reading and writing mail, pure: MIME, text from HTML, quoted history, Message-IDs,
Authentication-Results, loop and auto-reply signs, threading keys, `#` commands.

Imports only the standard library, mail-parser, selectolax and `mailroom.errors`/`mailroom.config`;
no database, socket or HTTP library.
"""
