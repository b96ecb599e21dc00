"""Read the lab apiserver's audit log: count requests between two marks.

A mark is a byte offset in the log taken right after a "fence" request that the helper
makes itself, so everything the caller did before mark() is in the log before the mark.

Library use (tests, benchmarks):

    audit = AuditLog.for_lab()
    start = audit.mark()
    ...  # run a module
    summary = audit.summary(start, audit.mark(), user="difymesh-lab-admin")
    assert summary["writes"] == 0

Command line (integration playbooks):

    auditlog.py mark                      -> prints an offset
    auditlog.py count START [--user U] [--user-agent UA] [--namespace NS] [--resource R]
                                          -> prints the summary as JSON
"""

import argparse
import collections
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))
READ_VERBS = frozenset(("get", "list", "watch"))
FENCE_PREFIX = "difymesh-audit-fence-"
ADMIN_USER = "difymesh-lab-admin"

_LAB = os.path.dirname(os.path.abspath(__file__))
_STATE = os.environ.get("LAB_STATE", os.path.join(
    os.environ.get("LAB_CACHE", os.path.join(os.path.dirname(os.path.dirname(_LAB)), ".cache", "lab")),
    "run"))


class AuditLog:
    """The audit log of one lab, with the admin credentials needed to place fences."""

    def __init__(self, log_path, server, pki_dir):
        self.log_path = log_path
        self.server = server
        self.pki_dir = pki_dir

    @classmethod
    def for_lab(cls, state=_STATE):
        port = int(os.environ.get("LAB_APISERVER_PORT", "36443"))
        return cls(os.path.join(state, "audit.log"), "https://127.0.0.1:%d" % port,
                   os.path.join(state, "pki"))

    def _fence_request(self, name):
        context = ssl.create_default_context(cafile=os.path.join(self.pki_dir, "ca.crt"))
        context.load_cert_chain(os.path.join(self.pki_dir, "admin.crt"),
                                os.path.join(self.pki_dir, "admin.key"))
        url = "%s/api/v1/namespaces/default/configmaps/%s" % (self.server, name)
        try:
            urllib.request.urlopen(url, timeout=10, context=context).close()
        except urllib.error.HTTPError as error:  # 404 is the expected answer
            if error.code != 404:
                raise

    def mark(self, timeout=30.0):
        """Make a fence request and return the log offset just after its event."""
        name = FENCE_PREFIX + uuid.uuid4().hex
        time.sleep(0.1)  # let requests whose responses just arrived finish their audit write
        self._fence_request(name)
        needle = ("/configmaps/" + name).encode()
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.log_path, "rb") as handle:
                for line in handle:
                    if needle in line:
                        return handle.tell()
            time.sleep(0.05)
        raise TimeoutError("audit fence %s never reached %s" % (name, self.log_path))

    def events(self, start, end=None):
        """Audit events logged between two offsets, fences left out."""
        with open(self.log_path, "rb") as handle:
            handle.seek(start)
            data = handle.read() if end is None else handle.read(max(0, end - start))
        found = []
        for line in data.splitlines():
            if not line.strip() or FENCE_PREFIX.encode() in line:
                continue
            found.append(json.loads(line))
        return found

    def summary(self, start, end=None, **filters):
        """Counts of matching requests by verb, resource, namespace and user agent."""
        chosen = [e for e in self.events(start, end) if matches(e, **filters)]
        verbs = collections.Counter(e["verb"] for e in chosen)
        simulated = [e for e in chosen if e["verb"] in WRITE_VERBS and is_dry_run(e)]
        return {
            "total": len(chosen),
            # A server-side dry run (kubernetes.core's check mode) uses a write verb but persists
            # nothing, so it is counted apart: "writes" are the requests that changed the cluster.
            "writes": sum(n for v, n in verbs.items() if v in WRITE_VERBS) - len(simulated),
            "dry_run_writes": len(simulated),
            "reads": sum(n for v, n in verbs.items() if v in READ_VERBS),
            "by_verb": dict(verbs),
            "by_resource": dict(collections.Counter(
                "%s %s" % (e["verb"], _resource(e)) for e in chosen)),
            "by_namespace": dict(collections.Counter(
                e.get("objectRef", {}).get("namespace", "") for e in chosen)),
            "by_user_agent": dict(collections.Counter(e.get("userAgent", "") for e in chosen)),
            "write_requests": ["%s %s" % (e["verb"], e["requestURI"]) for e in chosen
                               if e["verb"] in WRITE_VERBS and not is_dry_run(e)],
        }


def is_dry_run(event):
    """True for a request the server only simulated (?dryRun=All): nothing was stored."""
    query = urllib.parse.urlsplit(event.get("requestURI", "")).query
    return "All" in urllib.parse.parse_qs(query).get("dryRun", [])


def _resource(event):
    ref = event.get("objectRef", {})
    resource = ref.get("resource", event.get("requestURI", ""))
    return resource + ("/" + ref["subresource"] if ref.get("subresource") else "")


def matches(event, user=None, user_agent=None, namespace=None, resource=None, verbs=None):
    """True if the event passes every filter given (user agent is a prefix match)."""
    ref = event.get("objectRef", {})
    checks = (
        user is None or event.get("user", {}).get("username") == user,
        user_agent is None or event.get("userAgent", "").startswith(user_agent),
        namespace is None or ref.get("namespace") == namespace,
        resource is None or ref.get("resource") == resource,
        verbs is None or event.get("verb") in verbs,
    )
    return all(checks)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Count lab apiserver requests between marks.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("mark", help="place a fence and print its offset")
    count = commands.add_parser("count", help="summarise requests since an offset")
    count.add_argument("start", type=int)
    count.add_argument("--user", default=ADMIN_USER, help="'' for every user")
    count.add_argument("--user-agent")
    count.add_argument("--namespace")
    count.add_argument("--resource")
    args = parser.parse_args(argv)
    audit = AuditLog.for_lab()
    if args.command == "mark":
        print(audit.mark())
        return 0
    end = audit.mark()
    print(json.dumps(audit.summary(args.start, end, user=args.user or None,
                                   user_agent=args.user_agent, namespace=args.namespace,
                                   resource=args.resource), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
