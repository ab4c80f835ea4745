"""The privacy context: the security-incident register (SEC-02, SEC-03) and the register of
data subjects' requests (PRIV-01)."""
