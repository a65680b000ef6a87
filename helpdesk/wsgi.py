import os

from django.core.wsgi import get_wsgi_application

from helpdesk import production

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_wsgi_application()
# Production refuses to serve without its environment (SECRET_KEY, ALLOWED_HOSTS, SITE_URL).
production.require("The web server")
