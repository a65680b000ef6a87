"""The agents' desk: the tickets' admin (queue, ticket page, actions). Nothing imports it."""
