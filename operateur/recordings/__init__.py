"""Call recordings (VOX-12): files attached to calls, downloaded and exported by the customer,
destroyed after the terms' retention; and the purge of old traffic data (VOX-13)."""
