"""E-mail through an SMTP relay (smtplib): plain, STARTTLS, or implicit TLS, with optional
login. SMTP 4xx replies and connection problems are transient; 5xx replies are permanent."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from hms_server.adapters.messaging.base import (
    OutgoingMessage,
    PermanentSendError,
    ProviderResult,
    TransientSendError,
)
from hms_server.adapters.messaging.config import MessagingSettings


@dataclass(frozen=True)
class SmtpAdapter:
    """Opens one connection per message: reminders are few and relays drop idle sessions."""

    host: str
    port: int = 25
    sender: str = "HMS <no-reply@hms.invalid>"
    username: str = ""
    password: str = ""
    starttls: bool = False
    implicit_tls: bool = False
    ca_file: str = ""
    timeout: float = 15.0
    channel: str = "email"

    @classmethod
    def from_settings(cls, settings: MessagingSettings) -> SmtpAdapter:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_ssl,
            ca_file=settings.smtp_ca_file,
            timeout=settings.smtp_timeout_seconds,
        )

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_file:
            context.load_verify_locations(cafile=self.ca_file)
        return context

    def _build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject or "Message from the hospital"
        domain = self.sender.rsplit("@", 1)[-1].strip(" >") or "hms.invalid"
        email["Message-ID"] = make_msgid(idstring=f"hms-{message.id}", domain=domain)
        email.set_content(message.body)
        return email

    def send(self, message: OutgoingMessage) -> ProviderResult:
        email = self._build(message)
        try:
            if self.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._tls_context()
                )
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.starttls and not self.implicit_tls:
                    smtp.starttls(context=self._tls_context())
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise _by_code(codes[0] if codes else 550, "recipient refused") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentSendError(f"SMTP {exc.smtp_code}: authentication refused") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, type(exc).__name__) from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentSendError(
                "SMTP relay does not support a required extension (STARTTLS or AUTH)"
            ) from None
        except ssl.SSLError as exc:
            raise PermanentSendError(f"TLS failure: {exc.reason or type(exc).__name__}") from None
        except (smtplib.SMTPException, OSError) as exc:  # incl. timeouts, refused
            raise TransientSendError(f"SMTP connection problem: {type(exc).__name__}") from None
        if refused:
            codes = sorted({code for code, _ in refused.values()})
            raise _by_code(codes[0], "recipient refused")
        return ProviderResult(provider_message_id=str(email["Message-ID"]))


def _by_code(code: int, what: str) -> TransientSendError | PermanentSendError:
    reason = f"SMTP {code}: {what}"
    if 400 <= code < 500:
        return TransientSendError(reason)
    return PermanentSendError(reason)
