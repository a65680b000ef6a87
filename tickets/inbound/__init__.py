"""Email in: mailboxes polled over IMAP (or a message piped to `manage.py receive_mail`) become
tickets and replies through the same services as the portal.

- `config`: the mailboxes, from the environment.
- `parsing`: a raw RFC 5322 message to plain values (pure: no ORM).
- `thread`: the Message-IDs of a ticket's mail thread; headers for an outgoing ticket mail.
- `processing`: store each message once per Message-ID, then process it exactly once.
- `imap`: the poller (imap-tools); `tasks`: what the django-q2 schedule runs.
"""
