"""The customer portal: dashboard, tickets, plan page, account. Nothing imports it."""
