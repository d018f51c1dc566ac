"""Lint every IAM policy document under the given directories with
parliament (offline), and fail on any finding not suppressed, with its
reason, in test/lint/parliament-suppressions.yaml. A suppression that
matches nothing fails too, so the list never outlives its findings.

usage: iam_policies.py SUPPRESSIONS DIR...
"""

import glob
import os
import re
import sys
from pathlib import Path

import parliament
import yaml
from parliament import analyze_policy_string, enhance_finding, override_config

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
MINIMUM = "LOW"


def load_suppressions(path):
    with open(path) as f:
        entries = yaml.safe_load(f)
    for e in entries:
        for key in ("issue", "files", "reason"):
            if not e.get(key):
                sys.exit(f"{path}: every suppression needs {key}: {e}")
        e["used"] = 0
    return entries


def suppressed(finding, path, suppressions):
    for s in suppressions:
        if s["issue"] != finding.issue or not re.fullmatch(s["files"], path):
            continue
        # The detail, or for some issues the location (e.g. the actions).
        where = f"{finding.detail} {finding.location.get('actions', '')}"
        if "detail" in s and not re.search(s["detail"], where):
            continue
        s["used"] += 1
        return s
    return None


def main(suppressions_path, dirs):
    override_config(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml")
    suppressions = load_suppressions(suppressions_path)
    files = sorted(f for d in dirs for f in glob.glob(os.path.join(d, "**", "*.json"), recursive=True))
    if not files:
        sys.exit(f"no policy documents in {' '.join(dirs)}")
    failed = 0
    for path in files:
        with open(path) as f:
            policy = analyze_policy_string(f.read(), path, include_community_auditors=True, config=parliament.config)
        seen = set()
        for finding in policy.findings:
            finding = enhance_finding(finding)
            if SEVERITIES.index(finding.severity) < SEVERITIES.index(MINIMUM):
                continue
            key = (finding.issue, str(finding.detail))
            if key in seen:  # parliament repeats some findings once per action
                continue
            seen.add(key)
            if suppressed(finding, path, suppressions):
                continue
            failed += 1
            print(f"{path}: {finding.severity} {finding.issue} - {finding.title}: {finding.detail}")
    stale = [s for s in suppressions if s["used"] == 0]
    for s in stale:
        print(f"{suppressions_path}: suppression of {s['issue']} for {s['files']} matches no finding; remove it")
    used = sum(s["used"] for s in suppressions)
    print(f"parliament: {len(files)} policy documents, {failed} finding(s), {used} suppressed with a reason")
    sys.exit(1 if failed or stale else 0)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
