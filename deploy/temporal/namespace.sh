#!/bin/sh
# The namespace and its custom search attributes, idempotently, failing loudly:
#   namespace.sh NAMESPACE RETENTION Name=Type [Name=Type ...]
# (Type as the temporal CLI spells it: Keyword, KeywordList, Int, Bool, Double, Datetime, Text.)
# An attribute that is missing is created; one already there with the same type is accepted;
# one already there with another type stops everything with a non-zero exit, since workflows
# would then write values the cluster rejects. Connection from the temporal CLI's environment
# (TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS, ...).
# Run by compose's temporal-namespace service and by tests/deploy/test_namespace_script.py.
set -eu

if [ "$#" -lt 2 ]; then
    echo "usage: $0 NAMESPACE RETENTION Name=Type ..." >&2
    exit 2
fi
namespace=$1
retention=$2
shift 2

# Run a command until it succeeds, at most TRIES times SECONDS apart, else stop loudly.
retry() {
    tries=$1
    pause=$2
    what=$3
    shift 3
    n=0
    until "$@" >/dev/null 2>&1; do
        n=$((n + 1))
        if [ "$n" -ge "$tries" ]; then
            echo "$what after $n tries" >&2
            exit 1
        fi
        sleep "$pause"
    done
}

# The server may still be starting (compose's health check sees the port before the frontend
# answers).
retry 60 2 "Temporal is not healthy" temporal operator cluster health

if temporal operator namespace describe -n "$namespace" >/dev/null 2>&1; then
    echo "namespace $namespace: present"
else
    temporal operator namespace create -n "$namespace" --retention "$retention"
    echo "namespace $namespace: created"
fi
# A new namespace reaches every frontend's cache a few seconds later; until then attribute
# calls fail with "not found".
retry 30 1 "namespace $namespace is not usable" \
    temporal operator search-attribute list -n "$namespace"

# "KeywordList" -> "INDEXED_VALUE_TYPE_KEYWORD_LIST", as `search-attribute list -o json` says it.
indexed_type() {
    printf 'INDEXED_VALUE_TYPE_%s' "$(printf '%s' "$1" | sed 's/\([a-z]\)\([A-Z]\)/\1_\2/g' | tr 'a-z' 'A-Z')"
}

# The type an attribute has now, or nothing when it is missing; a failed listing stops the
# script (set -e on the assignment) rather than reading as "missing".
current_type() {
    listing=$(temporal operator search-attribute list -n "$namespace" -o json)
    printf '%s\n' "$listing" | sed -n "s/^ *\"$1\": *\"\\([A-Z_]*\\)\".*/\\1/p" | head -n 1
}

failed=0
for pair in "$@"; do
    name=${pair%%=*}
    type=${pair#*=}
    if [ -z "$name" ] || [ "$name" = "$pair" ] || [ -z "$type" ]; then
        echo "malformed attribute $pair (want Name=Type)" >&2
        exit 2
    fi
    want=$(indexed_type "$type")
    have=$(current_type "$name")
    if [ -z "$have" ]; then
        temporal operator search-attribute create -n "$namespace" --name "$name" --type "$type" >/dev/null
        have=$(current_type "$name")
        if [ "$have" != "$want" ]; then
            echo "search attribute $name: created but reads back as '${have:-missing}', not $want" >&2
            failed=1
            continue
        fi
        echo "search attribute $name: created ($type)"
    elif [ "$have" = "$want" ]; then
        echo "search attribute $name: present ($type)"
    else
        echo "search attribute $name exists as $have, not $want: fix the cluster by hand" >&2
        failed=1
    fi
done
exit "$failed"
