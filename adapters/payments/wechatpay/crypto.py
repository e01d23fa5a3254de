"""WeChat Pay v3 signing and encryption: SHA256withRSA messages, AEAD_AES_256_GCM, key files."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')


def generate_private_key_pem() -> bytes:
    """A fresh RSA-2048 private key in PKCS#8 PEM, the form merchants download."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem_of(private_pem: bytes) -> bytes:
    return (
        load_private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def load_private_key(pem: bytes) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(pem: bytes) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def key_id(public_pem: bytes, prefix: str = "") -> str:
    """A stable identifier of a public key (stands in for a serial number or PUB_KEY_ID)."""
    digest = hashlib.sha256(
        load_public_key(public_pem).public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()
    return prefix + digest[:40].upper()


def ensure_private_key(path: Path) -> bytes:
    """The PEM at path, generated (mode 0600) when missing; returns the PEM bytes."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = generate_private_key_pem()
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        # Atomic so two processes starting together never read half a key.
        tmp.replace(path)
    return path.read_bytes()


def sign(private_key: rsa.RSAPrivateKey, message: str) -> str:
    """SHA256withRSA over the message, base64."""
    raw = private_key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


def verify(public_key: rsa.RSAPublicKey, message: str, signature_b64: str) -> bool:
    try:
        raw = base64.b64decode(signature_b64, validate=True)
        public_key.verify(raw, message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def request_message(method: str, path_and_query: str, timestamp: str, nonce: str, body: str) -> str:
    return f"{method}\n{path_and_query}\n{timestamp}\n{nonce}\n{body}\n"


def response_message(timestamp: str, nonce: str, body: str) -> str:
    """What a response or callback signature covers."""
    return f"{timestamp}\n{nonce}\n{body}\n"


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


def parse_authorization(header: str) -> dict[str, str] | None:
    """The fields of `WECHATPAY2-SHA256-RSA2048 mchid="..",...`, or None if malformed."""
    scheme, _, rest = header.partition(" ")
    if scheme != SIGNATURE_TYPE:
        return None
    fields = dict(_AUTH_FIELD.findall(rest))
    needed = {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}
    return fields if needed <= fields.keys() else None


def signed_headers(
    private_key: rsa.RSAPrivateKey, serial: str, body: str, timestamp: int
) -> dict[str, str]:
    """The Wechatpay-* headers of a signed response or callback."""
    nonce = new_nonce()
    ts = str(timestamp)
    return {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Signature": sign(private_key, response_message(ts, nonce, body)),
        "Wechatpay-Serial": serial,
        "Wechatpay-Signature-Type": SIGNATURE_TYPE,
    }


def aead_encrypt(apiv3_key: str, plaintext: str, associated_data: str) -> tuple[str, str]:
    """AEAD_AES_256_GCM with a 12-character nonce; returns (ciphertext base64, nonce)."""
    nonce = secrets.token_hex(6)
    data = AESGCM(apiv3_key.encode()).encrypt(
        nonce.encode(), plaintext.encode(), associated_data.encode()
    )
    return base64.b64encode(data).decode(), nonce


def aead_decrypt(
    apiv3_key: str, nonce: str, ciphertext_b64: str, associated_data: str
) -> str | None:
    """The plaintext, or None when the key, nonce, data or tag do not match."""
    try:
        data = base64.b64decode(ciphertext_b64, validate=True)
        plain = AESGCM(apiv3_key.encode()).decrypt(nonce.encode(), data, associated_data.encode())
        return plain.decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        return None


# Key files of the local gateway (data_dir/wechatpay/): the merchant's API key pair and the
# platform's (WeChat Pay's) key pair; a real merchant only ever holds the first private key
# and the platform public key.
MERCHANT_PRIVATE_FILE = "merchant_private_key.pem"
MERCHANT_PUBLIC_FILE = "merchant_public_key.pem"
PLATFORM_PRIVATE_FILE = "platform_private_key.pem"
PLATFORM_PUBLIC_FILE = "platform_public_key.pem"
PUBLIC_KEY_ID_PREFIX = "PUB_KEY_ID_"


def ensure_key_files(directory: Path) -> None:
    """Generate both key pairs into directory on first use; later calls change nothing."""
    for private_name, public_name in (
        (MERCHANT_PRIVATE_FILE, MERCHANT_PUBLIC_FILE),
        (PLATFORM_PRIVATE_FILE, PLATFORM_PUBLIC_FILE),
    ):
        private_pem = ensure_private_key(directory / private_name)
        public_path = directory / public_name
        if not public_path.exists():
            tmp = public_path.with_suffix(".tmp")
            tmp.write_bytes(public_pem_of(private_pem))
            tmp.replace(public_path)


JSAPI_FIELDS = ("appId", "timeStamp", "nonceStr", "package")


def jsapi_message(params: dict[str, str]) -> str:
    """What a JSAPI paySign covers: appId, timeStamp, nonceStr and package, one a line."""
    return "".join(f"{params[name]}\n" for name in JSAPI_FIELDS)


def jsapi_pay_params(
    private_key: rsa.RSAPrivateKey, appid: str, prepay_id: str, timestamp: int
) -> dict[str, str]:
    """The parameters a WeChat page passes to WeixinJSBridge getBrandWCPayRequest, paySign
    made with the merchant's API key (SHA256withRSA), as WeChat Pay v3 specifies."""
    params = {
        "appId": appid,
        "timeStamp": str(timestamp),
        "nonceStr": new_nonce(),
        "package": f"prepay_id={prepay_id}",
        "signType": "RSA",
    }
    params["paySign"] = sign(private_key, jsapi_message(params))
    return params


def verify_jsapi_pay_params(public_key: rsa.RSAPublicKey, params: dict[str, str]) -> bool:
    """Whether paySign is the merchant's signature over these parameters."""
    if params.get("signType") != "RSA" or any(name not in params for name in JSAPI_FIELDS):
        return False
    return verify(public_key, jsapi_message(params), params.get("paySign", ""))
