#!/usr/bin/env python3
"""Makes the database, a user and a public password-grant client; prints the client id."""
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dotsite.settings")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

call_command("migrate", verbosity=0, interactive=False)
user = User.objects.create_user("alice", password=sys.argv[1])
app = Application.objects.create(
    name="authkit-test",
    client_id="authkit-test-client",
    client_type=Application.CLIENT_PUBLIC,
    authorization_grant_type=Application.GRANT_PASSWORD,
    user=user,
)
print(app.client_id)
