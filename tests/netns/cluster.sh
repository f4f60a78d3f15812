#!/usr/bin/env bash
# Multi-host tests: three `actor-node serve` processes, each in a network namespace of its
# own, on a bridge in a fourth ("switch") namespace. Nothing runs in the root namespace, which
# gets no interface and no address; no namespace has a default route, so a link set down makes
# a peer unreachable instead of sending traffic out through the machine's own network. A
# partition is a link set down; delay and silence come from `fault-proxy` (the kernel has no
# netem). Everything the script creates is removed on exit, also on failure or Ctrl-C.
#
#   bash tests/netns/cluster.sh                 # builds the release binaries first
#   ACTOR_NODE=path/actor-node FAULT_PROXY=path/fault-proxy bash tests/netns/cluster.sh
#
# Needs root and `ip` (iproute2); where either is missing, or `ip netns add` fails, it says
# so on one line and exits 0. Every wait polls with a deadline; a run takes about 7 s once the
# binaries are built (the cluster's checks, once they run, add the time the cluster takes to
# converge, each wait bounded by 30 to 40 s).
#
# Layout (X picked at random, 10.231.X.0/24):
#
#   ns <p>-n1: kt-eth 10.231.X.11 ──veth── kt-p1 ┐
#   ns <p>-n2: kt-eth 10.231.X.12 ──veth── kt-p2 ├─ ktbr (bridge) in ns <p>-sw
#   ns <p>-n3: kt-eth 10.231.X.13 ──veth── kt-p3 ┘
#
# where <p> is `kt<pid>`. A partition of node N sets kt-pN down at the switch: node N keeps
# its address and routes, and what it sends, or what is sent to it, vanishes.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"

say() { printf '%s\n' "$*"; }
fail() {
    say "FAIL: $*" >&2
    exit 1
}
skipped=
skip() {
    say "tests/netns/cluster.sh: skipped: $*"
    skipped=1
    exit 0
}

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no ip command (iproute2)"

prefix="kt$$"
switch="$prefix-sw"
nodes=("$prefix-n1" "$prefix-n2" "$prefix-n3")
namespaces=()  # created so far, removed on exit
pids=()        # processes started so far, stopped on exit
scratch="$(mktemp -d)"
script_start=$(date +%s)

# --- Cleanup: processes, then namespaces (their veths and the bridge go with them) -------

# Stops process $1: SIGTERM, then SIGKILL if it is still there after 5 s.
stop_pid() {
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    local deadline=$((SECONDS + 5))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    exec 7>&-  # the proxy's standard input: its end stops it too
    local pid ns
    for pid in "${pids[@]}"; do
        stop_pid "$pid"
    done
    # Anything still running in our namespaces was started through them by this script: a
    # namespace is freed only when nothing runs in it.
    for ns in "${namespaces[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
    done
    for ns in "${namespaces[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$scratch"
    if ip netns list | grep -q "^$prefix-"; then
        say "FAIL: namespaces left behind: $(ip netns list | grep "^$prefix-" | tr '\n' ' ')" >&2
        status=1
    fi
    if ip -o link show | grep -q ': kt'; then
        say "FAIL: interfaces in the root namespace: $(ip -o link show | grep ': kt')" >&2
        status=1
    fi
    if [ -n "$skipped" ] && [ "$status" -eq 0 ]; then
        :
    elif [ "$status" -eq 0 ]; then
        say "tests/netns/cluster.sh: passed in $(($(date +%s) - script_start)) s; nothing left behind"
    else
        say "tests/netns/cluster.sh: FAILED (exit $status); namespaces and processes removed" >&2
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The binaries ----------------------------------------------------------------------

if ! ip netns add "$prefix-probe" 2>/dev/null; then
    skip "ip netns add failed (no network namespaces here)"
fi
ip netns del "$prefix-probe"

if [ -z "${ACTOR_NODE:-}" ] || [ -z "${FAULT_PROXY:-}" ]; then
    (cd "$root" && cargo build --quiet --release -p actor-node -p actor-testkit --bins)
    target_dir="$(cd "$root" && cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
    ACTOR_NODE="${ACTOR_NODE:-$target_dir/release/actor-node}"
    FAULT_PROXY="${FAULT_PROXY:-$target_dir/release/fault-proxy}"
fi
[ -x "$ACTOR_NODE" ] || fail "no actor-node binary at $ACTOR_NODE"
[ -x "$FAULT_PROXY" ] || fail "no fault-proxy binary at $FAULT_PROXY"

key="$scratch/cluster.key"
"$ACTOR_NODE" keygen "$key" >/dev/null

# --- The network -----------------------------------------------------------------------

net="10.231.$((RANDOM % 254 + 1))"
addrs=("$net.11" "$net.12" "$net.13")

ip netns add "$switch"
namespaces+=("$switch")
ip -n "$switch" link add ktbr type bridge forward_delay 0
ip -n "$switch" link set ktbr up
for i in 0 1 2; do
    ns="${nodes[$i]}"
    ip netns add "$ns"
    namespaces+=("$ns")
    ip -n "$ns" link set lo up
    # Both ends are created where they live: never in the root namespace, even for a moment.
    ip -n "$switch" link add "kt-p$((i + 1))" type veth peer name kt-eth netns "$ns"
    ip -n "$switch" link set "kt-p$((i + 1))" master ktbr up
    ip -n "$ns" addr add "${addrs[$i]}/24" dev kt-eth
    ip -n "$ns" link set kt-eth up
    if ip -n "$ns" route show default | grep -q .; then
        fail "$ns has a default route"
    fi
done
say "network: ${nodes[*]} on ${net}.0/24, bridge in $switch"

# Sets node $1's link (1 to 3) down or up ($2) at the switch.
set_link() {
    ip -n "$switch" link set "kt-p$1" "$2"
}

# --- Nodes -----------------------------------------------------------------------------

node_pid=()   # by node index (0 to 2)
node_addr=()  # the address each node printed

# Starts `actor-node serve` in node $1's namespace (index 0 to 2) on port $2, with more
# arguments after; waits for the address it prints.
start_node() {
    local i=$1 port=$2
    shift 2
    local out="$scratch/node$i.out" log="$scratch/node$i.log"
    : >"$out"
    ip netns exec "${nodes[$i]}" "$ACTOR_NODE" serve --listen "${addrs[$i]}:$port" \
        --name "node$((i + 1))" --secret-file "$key" "$@" >"$out" 2>"$log" </dev/null &
    node_pid[i]=$!
    pids+=("$!")
    local deadline=$((SECONDS + 10))
    until [ -s "$out" ]; do
        kill -0 "${node_pid[$i]}" 2>/dev/null || fail "node $((i + 1)) exited: $(tail -n 5 "$log")"
        [ "$SECONDS" -lt "$deadline" ] || fail "node $((i + 1)) printed no address in 10 s"
        sleep 0.05
    done
    node_addr[i]="$(head -n 1 "$out")"
}

stop_node() {
    stop_pid "${node_pid[$1]}"
}

# Runs `actor-node call ADDR echo TEXT` from namespace $1 against $2 with --timeout $3 and
# text $4; prints the answer. A guard kills it well after what its timeout allows.
call_echo() {
    local ns=$1 addr=$2 timeout=$3 text=$4
    shift 4
    timeout $((3 * timeout + 10)) ip netns exec "$ns" "$ACTOR_NODE" call "$addr" echo "$text" \
        --secret-file "$key" --timeout "$timeout" "$@" 2>>"$scratch/calls.log"
}

# Checks that a call from $1 to $2 (with more arguments after $3) answers; the first one may
# wait for ARP, hence a retry within 10 s.
expect_echo() {
    local ns=$1 addr=$2 what=$3 answer
    shift 3
    local deadline=$((SECONDS + 10))
    until answer="$(call_echo "$ns" "$addr" 5 hello "$@")" && [ "$answer" = hello ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "$what: no echo within 10 s: $(tail -n 2 "$scratch/calls.log")"
        sleep 0.2
    done
    say "ok - $what"
}

# Checks that a call from $1 to $2 with --timeout 2 fails, and within what the timeout allows
# (connecting, the handshake and the answer are each bounded by it: 3 x 2 s, plus start-up).
expect_no_echo() {
    local ns=$1 addr=$2 what=$3 started elapsed_ms
    started=$(date +%s%N)
    if call_echo "$ns" "$addr" 2 hello >/dev/null; then
        fail "$what: the call succeeded"
    fi
    elapsed_ms=$((($(date +%s%N) - started) / 1000000))
    [ "$elapsed_ms" -le 8000 ] || fail "$what: the call took $elapsed_ms ms to fail"
    say "ok - $what (failed after $elapsed_ms ms, --timeout 2)"
}

# --- fault-proxy -----------------------------------------------------------------------

proxy_out="$scratch/proxy.out"

# Starts a TCP fault-proxy in namespace $1 listening on $2, forwarding to $3, with more
# arguments after. Its standard input is a FIFO held open on fd 7, for control lines.
start_proxy() {
    local ns=$1 listen=$2 upstream=$3
    shift 3
    mkfifo "$scratch/proxy.in"
    exec 7<>"$scratch/proxy.in"
    : >"$proxy_out"
    ip netns exec "$ns" "$FAULT_PROXY" --tcp --listen "$listen" --upstream "$upstream" "$@" \
        <"$scratch/proxy.in" >"$proxy_out" 2>"$scratch/proxy.log" &
    pids+=("$!")
    local deadline=$((SECONDS + 10))
    until [ -s "$proxy_out" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "fault-proxy printed no address: $(cat "$scratch/proxy.log")"
        sleep 0.05
    done
    proxy_addr="$(head -n 1 "$proxy_out")"
}

# Sends control line $1 to the proxy and checks that it answers `ok ...`.
proxy_control() {
    local before answer
    before=$(wc -l <"$proxy_out")
    printf '%s\n' "$1" >&7
    local deadline=$((SECONDS + 10))
    until [ "$(wc -l <"$proxy_out")" -gt "$before" ]; do
        [ "$SECONDS" -lt "$deadline" ] || fail "fault-proxy did not answer '$1'"
        sleep 0.02
    done
    answer="$(sed -n "$((before + 1))p" "$proxy_out")"
    case "$answer" in
        ok*) ;;
        *) fail "fault-proxy answered '$1' with: $answer" ;;
    esac
}

# --- What works today: calls across namespaces, a partition, the proxy -------------------

check_calls_partition_and_proxy() {
    for i in 0 1 2; do
        start_node "$i" 7700
    done
    say "nodes: ${node_addr[*]}"

    expect_echo "${nodes[0]}" "${node_addr[1]}" "n1 calls n2's echo"
    expect_echo "${nodes[2]}" "${node_addr[0]}" "n3 calls n1's echo"

    set_link 2 down
    expect_no_echo "${nodes[0]}" "${node_addr[1]}" "n2 partitioned: n1's call fails"
    set_link 2 up
    expect_echo "${nodes[0]}" "${node_addr[1]}" "n2 healed: n1's call answers again"

    start_proxy "${nodes[2]}" "${addrs[2]}:7800" "${node_addr[1]}" --delay-ms 100
    expect_echo "${nodes[0]}" "$proxy_addr" "n1 calls n2 through a proxy in n3 delaying 100 ms each way"
    proxy_control "blackhole on"
    expect_no_echo "${nodes[0]}" "$proxy_addr" "blackhole on: the call through the proxy fails"
    proxy_control "blackhole off"
    expect_echo "${nodes[0]}" "$proxy_addr" "blackhole off: the call through the proxy answers again"

    for i in 0 1 2; do
        stop_node "$i"
    done
}

# --- The cluster (issue 16): run once `actor-node members` exists ------------------------
#
# The contract: `serve ... --join SEED_ADDR` joins a cluster through a seed, and
# `actor-node members ADDR --secret-file FILE` prints one line per member,
# `<node id> <address> <state>`, the state one of up, suspect, down, left. The address is
# taken to be the one the member's `serve` printed.

# Prints node $1's member list (index 0 to 2), asked from its own namespace.
members_of() {
    local i=$1
    timeout 10 ip netns exec "${nodes[$i]}" "$ACTOR_NODE" members "${node_addr[$i]}" \
        --secret-file "$key" 2>>"$scratch/members.log"
}

# Whether member list $1 has a member at address $2 in state $3.
has_state() {
    awk -v addr="$2" -v state="$3" '$2 == addr && $3 == state { found = 1 } END { exit !found }' <<<"$1"
}

# Polls until function $2 holds for node $1's member list (passed to it as $1), within $3
# seconds; $4 says what is awaited.
wait_for_view() {
    local i=$1 condition=$2 limit=$3 what=$4 view
    local deadline=$((SECONDS + limit))
    while :; do
        view="$(members_of "$i" || true)"
        if "$condition" "$view"; then
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            fail "$what: node $((i + 1)) sees, after $limit s:
$view"
        fi
        sleep 0.2
    done
}

# Whether member list $1 shows the three nodes up, and no other member up. (A node that
# comes back may do so under a new id: a line for its old id, down or left, is no error.)
all_three_up() {
    local view=$1 i
    [ "$(awk '$3 == "up"' <<<"$view" | wc -l)" -eq 3 ] || return 1
    for i in 0 1 2; do
        has_state "$view" "${node_addr[$i]}" up || return 1
    done
}

# Whether member list $1 shows node 2 suspect or down (and not up), and nodes 1 and 3 up.
node2_lost() {
    local view=$1
    if has_state "$view" "${node_addr[1]}" up; then
        return 1
    fi
    { has_state "$view" "${node_addr[1]}" suspect || has_state "$view" "${node_addr[1]}" down; } &&
        has_state "$view" "${node_addr[0]}" up &&
        has_state "$view" "${node_addr[2]}" up
}

# Node 1 is the seed; nodes 2 and 3 join through it. Every node lists all three up. Node N
# exports its echo actor as `echo-N` too, for the lookups by name.
cluster_join() {
    start_node 0 7710 --echo-name echo-1
    start_node 1 7710 --join "${node_addr[0]}" --echo-name echo-2
    start_node 2 7710 --join "${node_addr[0]}" --echo-name echo-3
    for i in 0 1 2; do
        wait_for_view "$i" all_three_up 30 "join through node 1"
    done
    say "ok - cluster: nodes 2 and 3 joined through node 1; every node lists all three up"
}

# Node 2 cut off: nodes 1 and 3 see it suspect or down; healed: every node lists all three
# up again.
cluster_partition_and_heal() {
    set_link 2 down
    wait_for_view 0 node2_lost 30 "partition of node 2"
    wait_for_view 2 node2_lost 30 "partition of node 2"
    say "ok - cluster: node 2 partitioned, nodes 1 and 3 see it suspect or down"
    set_link 2 up
    for i in 0 1 2; do
        wait_for_view "$i" all_three_up 40 "heal of node 2"
    done
    say "ok - cluster: healed, every node lists all three up again"
}

# Names across namespaces: node N's `echo-N` is found by name alone, through another member
# (which does not export it), from the third node's namespace.
cluster_lookup_across_namespaces() {
    local n through from
    for n in 1 2 3; do
        through=$((n % 3))
        from=$(((n + 1) % 3))
        expect_echo "${nodes[$from]}" "${node_addr[$through]}" \
            "cluster: echo-$n found by name through node $((through + 1)), from node $((from + 1))'s namespace" \
            --as "echo-$n"
    done
}

check_cluster() {
    cluster_join
    cluster_partition_and_heal
    cluster_lookup_across_namespaces
    for i in 0 1 2; do
        stop_node "$i"
    done
}

# --- Run -------------------------------------------------------------------------------

check_calls_partition_and_proxy
if "$ACTOR_NODE" members --help >/dev/null 2>&1; then
    check_cluster
else
    say "skip - cluster checks: this actor-node has no members command yet"
fi
