"""Imports every context's tables so that ``Base.metadata`` knows them all (Alembic, tests)."""

from __future__ import annotations

from operateur.accounts import models as accounts_models
from operateur.billing import models as billing_models
from operateur.contracts import models as contracts_models
from operateur.contracts.dunning import DunningStep
from operateur.db import Base
from operateur.dialer import models as dialer_models
from operateur.fraud import models as fraud_models
from operateur.mail import models as mail_models
from operateur.notifications import models as notifications_models
from operateur.numbers import models as numbers_models
from operateur.orders import models as orders_models
from operateur.privacy import models as privacy_models
from operateur.quality import models as quality_models
from operateur.recordings import models as recordings_models
from operateur.scheduler import JobRun
from operateur.sms import models as sms_models
from operateur.support import models as support_models
from operateur.voice import models as voice_models

CONTEXT_MODELS = (
    accounts_models,
    billing_models,
    contracts_models,
    mail_models,
    notifications_models,
    numbers_models,
    orders_models,
    privacy_models,
    dialer_models,
    fraud_models,
    quality_models,
    recordings_models,
    sms_models,
    support_models,
    voice_models,
    DunningStep,
    JobRun,
)

metadata = Base.metadata
