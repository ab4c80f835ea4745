"""SMS: message rules, the outbox, campaigns, sender IDs, STOP, stock (SMS-01..SMS-10).

Where each rule lives:

- ``encoding`` GSM 03.38 / UCS-2 counting and splitting (SMS-02, SMS-03), pure;
- ``senders`` sender-ID checks (SMS-05), pure; ``recipients`` who may receive (SMS-07);
  ``window`` the sending window (SMS-04); ``content`` the content filter's rule list (SMS-09);
  ``optouts`` STOP and unsubscriptions (SMS-06); ``stock`` the monthly stock (SMS-08);
- ``outbox`` the state machine of every message, driven by the SMPP ``dispatcher``;
  ``charging`` usage records and prepaid reservations (BIL-10); ``callbacks`` status callbacks;
- ``service`` single sends, senders, templates, lists, held messages; ``eligibility`` SMS-10
  (at the contract's signature and before each send);
  ``campaigns`` campaigns and their statistics (SMS-01); ``api`` and ``cli`` their edges.
"""
