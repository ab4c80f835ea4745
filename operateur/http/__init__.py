"""HTTP plumbing shared by every context's router: problems, sessions, access, metrics."""
