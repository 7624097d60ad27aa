"""The fixed values of this test run's environment: its id, its bucket and its webhook secrets."""

import base64
import uuid

RUN_ID = uuid.uuid4().hex[:8]
BUCKET = f"photogate-test-{RUN_ID}"
# Standard Webhooks secrets: two active for callbacks in (a rotation), one each for requests and events out.
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"callbacks-in-secret-0123456789ab").decode()
ROTATED_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"callbacks-in-secret-rotated-4567").decode()
REQUEST_SECRET = "whsec_" + base64.b64encode(b"requests-out-secret-0123456789ab").decode()
NOTIFICATION_SECRET = "whsec_" + base64.b64encode(b"notifications-secret-0123456789a").decode()
