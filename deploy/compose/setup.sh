#!/bin/sh
# Bootstraps the demonstration federation of deploy/compose.yaml: the countries GTM, HND, SLV
# and the regional hub REG, each with its own PostgreSQL database. Run once by the one-shot
# `setup` service before the four `serve` services start; it does what
# node/tests/it/fed/cluster.rs does with real processes:
#
#   1. `puente init` each member (plain HTTP web listener for the demo, a mutual-TLS
#      federation listener on 7443 reached as https://<member>:7443), and
#      `federation member-info` of each;
#   2. governance: `federation create` (one key per holder GTM, HND, SLV; 2 signatures),
#      `federation edit` (the four members, the agreements), `federation sign-manifest` twice;
#   3. each member: `federation join`, `peer approve` every other member,
#      `peer approve-agreement` each agreement it is part of;
#   4. a `node_admin` account per member; its temporary password is written to
#      <data dir>/admin-login.txt (0600), never printed.
#
# A demonstration only: the governance keys of all holders sit together in one directory,
# which in a real federation never happens (each holder keeps its own key offline).
#
# Environment: PUENTE (the binary, default `puente`), DATA_ROOT (default /var/lib/puente),
# DATABASE_URL_<MEMBER> (a postgres:// URL; unset: SQLite in the member's data directory).
set -eu
umask 077

PUENTE=${PUENTE:-puente}
DATA_ROOT=${DATA_ROOT:-/var/lib/puente}
GOV="$DATA_ROOT/governance"
DONE="$GOV/setup-complete"
MEMBERS="GTM HND SLV REG"
HUB=REG
HOLDERS=GTM,HND,SLV

if [ -f "$DONE" ]; then
    echo "setup: the federation is already set up ($DONE); nothing to do"
    exit 0
fi
if [ -e "$GOV" ]; then
    echo "setup: an earlier setup stopped half-way ($GOV exists, $DONE does not)." >&2
    echo "setup: start again from empty volumes: docker compose -f deploy/compose.yaml down -v" >&2
    exit 1
fi

lower() { echo "$1" | tr 'A-Z' 'a-z'; }
cfg() { echo "$DATA_ROOT/$1/puente.toml"; }
# `puente` on member $1's configuration.
on() {
    m=$1
    shift
    "$PUENTE" --config "$(cfg "$m")" "$@"
}

# 1. Members.
for m in $MEMBERS; do
    role=node
    [ "$m" = "$HUB" ] && role=hub
    host=$(lower "$m")
    db=$(eval "echo \"\${DATABASE_URL_$m:-}\"")
    echo "setup: init $m ($role)"
    if [ -n "$db" ]; then
        "$PUENTE" init --country "$m" --data-dir "$DATA_ROOT/$m" --listen 0.0.0.0:8443 \
            --no-tls --database-url "$db" --federation-listen 0.0.0.0:7443 \
            --federation-endpoint "https://$host:7443" --federation-role "$role" >/dev/null
    else
        "$PUENTE" init --country "$m" --data-dir "$DATA_ROOT/$m" --listen 0.0.0.0:8443 \
            --no-tls --federation-listen 0.0.0.0:7443 \
            --federation-endpoint "https://$host:7443" --federation-role "$role" >/dev/null
    fi
done
mkdir -p "$GOV"
for m in $MEMBERS; do
    on "$m" federation member-info >"$GOV/member-$m.json"
done

# 2. Governance: keys, anchor, manifest with members and agreements, two signatures.
"$PUENTE" federation create --dir "$GOV" --name puente-demo --holders "$HOLDERS" \
    --threshold 2 --valid-days 30 --grace-days 7 >"$GOV/create.txt"
fingerprint=$(grep -oE '[0-9a-f]{64}' "$GOV/create.txt" | head -n 1)
if [ -z "$fingerprint" ]; then
    echo "setup: \`federation create\` printed no anchor fingerprint" >&2
    exit 1
fi
echo "setup: federation created, anchor fingerprint $fingerprint"
"$PUENTE" federation edit --manifest "$GOV/manifest.json" \
    --add-member "$GOV/member-GTM.json" --add-member "$GOV/member-HND.json" \
    --add-member "$GOV/member-SLV.json" --add-member "$GOV/member-REG.json" \
    --agreement directory:GTM,HND,SLV \
    --agreement "stats:GTM,HND,SLV,REG@$HUB/quarter" \
    --agreement referral:GTM,HND \
    --agreement referral:GTM,SLV \
    --agreement referral:HND,SLV
for h in GTM HND; do
    "$PUENTE" federation sign-manifest --manifest "$GOV/manifest.json" \
        --key "$GOV/governance-$h.pem"
done

# The agreements' ids as the manifest names them (e.g. `referral-GTM-HND`,
# `stats-GTM-HND-REG-SLV@REG`): the kind, then the members joined by `-`, then `@hub`.
agreements=$(grep -oE '"id": *"(directory|stats|referral)-[^"]*"' "$GOV/manifest.json" |
    sed -E 's/^"id": *"//; s/"$//' | sort -u)
if [ "$(echo "$agreements" | wc -l)" -ne 5 ]; then
    echo "setup: expected 5 agreements in the manifest, found: $agreements" >&2
    exit 1
fi

# 3. Join, approve peers and agreements.
for m in $MEMBERS; do
    echo "setup: $m joins"
    on "$m" federation join --anchor "$GOV/anchor.json" --fingerprint "$fingerprint" \
        --manifest "$GOV/manifest.json"
    for p in $MEMBERS; do
        [ "$p" = "$m" ] || on "$m" peer approve "$p"
    done
    for a in $agreements; do
        # Members of an agreement: its id without the kind and the `@hub`, split at `-`.
        if echo "$a" | sed -E 's/@.*$//; s/^[a-z]+-//' | tr '-' '\n' | grep -qx "$m"; then
            on "$m" peer approve-agreement "$a"
        fi
    done
done

# 4. A national administrator per member.
for m in $MEMBERS; do
    on "$m" user add --username admin --name "Administrator $m" --role node_admin \
        >"$DATA_ROOT/$m/admin-login.txt"
    echo "setup: $m: user admin created; temporary password in $DATA_ROOT/$m/admin-login.txt"
done

date -u +%Y-%m-%dT%H:%M:%SZ >"$DONE"
echo "setup: done. Anchor fingerprint: $fingerprint"
