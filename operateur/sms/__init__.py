"""SMS: message rules (alphabet, length, segments), sender IDs, campaigns (SMS-01..SMS-10).

Pure rules live in ``encoding`` (GSM 03.38 / UCS-2 counting and splitting, SMS-02, SMS-03) and
``senders`` (sender-ID checks, SMS-05); both read the offer's ``SmsRules`` and do no I/O.
"""
