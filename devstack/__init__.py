"""Development tooling: run the stack on MiniStack (make up / make down, e2e tests)."""
