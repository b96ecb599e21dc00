"""The lab's own certificate authority, serving and client certificates, and service-account keys.

Everything is generated once into the lab's state folder and reused on later starts.
"""

import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)
APISERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
APISERVER_IPS = ("127.0.0.1", "10.96.0.1")

# name -> (common name, organisation or None); admin is in system:masters.
CLIENTS = {
    "admin": ("difymesh-lab-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    "kwok": ("kwok-controller", "system:masters"),
}


def _new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path, data, mode=0o600):
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def _key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _name(common_name, organisation=None):
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(parts)


def _builder(subject, issuer, public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _make_ca(folder):
    key = _new_key()
    name = _name("difymesh-lab-ca")
    cert = (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(os.path.join(folder, "ca.key"), _key_pem(key))
    _write(os.path.join(folder, "ca.crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _load_ca(folder):
    with open(os.path.join(folder, "ca.key"), "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    with open(os.path.join(folder, "ca.crt"), "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    return key, cert


def _issue(folder, stem, subject, extensions):
    ca_key, ca_cert = _load_ca(folder)
    key = _new_key()
    builder = _builder(subject, ca_cert.subject, key.public_key())
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write(os.path.join(folder, stem + ".key"), _key_pem(key))
    _write(os.path.join(folder, stem + ".crt"), cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _serving_extensions():
    names = [x509.DNSName(n) for n in APISERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in APISERVER_IPS]
    return [
        x509.SubjectAlternativeName(names),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
    ]


def _make_service_account_keys(folder):
    key = _new_key()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(os.path.join(folder, "sa.key"), _key_pem(key))
    _write(os.path.join(folder, "sa.pub"), public, 0o644)


def ensure(folder):
    """Create whatever of the lab's PKI is missing in folder; return True if anything was made."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    made = False
    if not os.path.exists(os.path.join(folder, "ca.crt")):
        _make_ca(folder)
        made = True
    if not os.path.exists(os.path.join(folder, "apiserver.crt")):
        _issue(folder, "apiserver", _name("kube-apiserver"), _serving_extensions())
        made = True
    client_usage = [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])]
    for stem, (common_name, organisation) in CLIENTS.items():
        if not os.path.exists(os.path.join(folder, stem + ".crt")):
            _issue(folder, stem, _name(common_name, organisation), client_usage)
            made = True
    if not os.path.exists(os.path.join(folder, "sa.key")):
        _make_service_account_keys(folder)
        made = True
    return made
