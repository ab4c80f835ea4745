"""Imports every context's tables so that ``Base.metadata`` knows them all (Alembic, tests)."""

from __future__ import annotations

from operateur.accounts import models as accounts_models
from operateur.billing import models as billing_models
from operateur.contracts import models as contracts_models
from operateur.contracts.dunning import DunningStep
from operateur.db import Base
from operateur.numbers import models as numbers_models
from operateur.scheduler import JobRun

CONTEXT_MODELS = (
    accounts_models,
    billing_models,
    contracts_models,
    numbers_models,
    DunningStep,
    JobRun,
)

metadata = Base.metadata
