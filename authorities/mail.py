"""Sending one e-mail from the app, after the save that asked for it.

By then the save has committed: a mail server that refuses must not turn it
into a server error. The refusal is logged and reported to the caller, which
says what it means (an invitation not sent, the national office not told).
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail

logger = logging.getLogger(__name__)


def send(*, subject, body, to, about):
    """Send one e-mail to the addresses `to`; whether the mail server took
    it. `about` names what it was for in the log, never an address."""
    try:
        send_mail(
            subject=subject,
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=to,
        )
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not send %s", about)
        return False
    return True
