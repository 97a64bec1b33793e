"""Care and support plans: outcomes in the person's words, lines, rule checks, and the
broker's approval workflow with versions, decisions and reviews."""
