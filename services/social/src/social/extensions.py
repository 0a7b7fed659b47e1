"""Flask extensions, created unbound here and bound to an app in :func:`social.app.create_app`."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

from social.catalogs import CatalogBabel
from social.dbtypes import NAMING_CONVENTION

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
login = LoginManager()
csrf = CSRFProtect()
#: Each app compiles its own catalogs (`social.catalogs.compile_catalogs`).
babel = CatalogBabel()
#: Its storage is the app's to say (`social.limits.storage_config`): shared by every worker.
limiter = Limiter(key_func=get_remote_address, default_limits=[])
