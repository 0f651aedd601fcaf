#!/bin/sh
# Draws the fleet of `make fleet` (tests/fleet/fleet.pl) as SVG on stdout:
#   sh scripts/fleet-diagram.sh > docs/fleet.svg      (make fleet-diagram)
# Boxes: 3 nginx, pitctl, the primary, 2 replicas, 3 Sentinels.  Arrows:
# reads (GET + the invalidation subscription), writes (last use, pitctl's
# transactions), replication, discovery/monitoring through Sentinel.
set -eu

READ='#1f6feb'; WRITE='#cf222e'; REPL='#1a7f37'; DISC='#6e7781'

# box X Y W H FILL TITLE LINE2 [LINE3]
box() {
    printf '<rect x="%s" y="%s" width="%s" height="%s" rx="8" fill="%s" stroke="#24292f" stroke-width="1.2"/>\n' \
        "$1" "$2" "$3" "$4" "$5"
    cx=$(( $1 + $3 / 2 ))
    printf '<text x="%s" y="%s" text-anchor="middle" font-weight="bold">%s</text>\n' \
        "$cx" $(( $2 + 22 )) "$6"
    printf '<text x="%s" y="%s" text-anchor="middle" font-size="12">%s</text>\n' \
        "$cx" $(( $2 + 40 )) "$7"
    if [ $# -ge 8 ]; then
        printf '<text x="%s" y="%s" text-anchor="middle" font-size="12">%s</text>\n' \
            "$cx" $(( $2 + 56 )) "$8"
    fi
}

# path D COLOR MARKER [DASH]   (MARKER none: a plain line)
path() {
    dash=${4:-}
    [ -n "$dash" ] && dash=" stroke-dasharray=\"$dash\""
    end=''
    [ "$3" != none ] && end=" marker-end=\"url(#$3)\""
    printf '<path d="%s" fill="none" stroke="%s" stroke-width="2"%s%s/>\n' \
        "$1" "$2" "$dash" "$end"
}

# label X Y COLOR TEXT [anchor]
label() {
    printf '<text x="%s" y="%s" fill="%s" font-size="12" text-anchor="%s">%s</text>\n' \
        "$1" "$2" "$3" "${5:-start}" "$4"
}

marker() {
    printf '<marker id="%s" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>\n' \
        "$1" "$2"
}

cat <<'END'
<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="1120" height="700" viewBox="0 0 1120 700" font-family="Helvetica, Arial, sans-serif" font-size="14">
<title>pit-auth fleet: 3 nginx, a Redis primary, 2 replicas, 3 Sentinels</title>
<rect width="1120" height="700" fill="#ffffff"/>
<defs>
END
marker read "$READ"; marker write "$WRITE"; marker repl "$REPL"; marker disc "$DISC"
echo '</defs>'

# --- arrows first, boxes on top ---------------------------------------------

# discovery: every nginx (sentinel=m S1 S2 S3) and pitctl (redis-sentinel://)
path 'M 270 40 V 22 H 140 V 555 H 166' "$DISC" disc '6 4'
path 'M 520 40 V 22 H 270' "$DISC" none '6 4'
path 'M 770 40 V 22 H 520' "$DISC" none '6 4'
label 150 14 "$DISC" 'discovery: which server is the primary, which are replicas (SENTINEL ...)'
path 'M 1025 244 V 555 H 874' "$DISC" disc '6 4'
label 1031 400 "$DISC" 'discovery'

# Sentinels monitor every Redis (and fail over)
for x in 270 520 770; do
    path "M $x 510 V 378" "$DISC" disc '2 4'
done
label 280 490 "$DISC" 'monitor, failover (REPLICAOF)'

# reads: GET + CLIENT TRACKING BCAST subscription on the read server
path 'M 262 108 V 310' "$READ" read
label 256 190 "$READ" 'A: GET + invalidations' end
label 256 206 "$READ" 'read 127.0.0.1:R1' end
path 'M 512 108 V 310' "$READ" read
label 518 262 "$READ" 'B: GET + invalidations'
label 518 278 "$READ" 'read replica'
path 'M 778 108 V 310' "$READ" read
label 786 240 "$READ" 'C: GET + invalidations'
label 786 256 "$READ" 'read primary'

# writes: last use (HSET used:IID) from every node, pitctl's transactions
path 'M 300 108 L 700 312' "$WRITE" write
path 'M 550 108 L 724 310' "$WRITE" write
path 'M 810 108 L 812 310' "$WRITE" write
label 600 128 "$WRITE" 'last use:'
label 600 144 "$WRITE" 'HSET used:IID'
path 'M 940 212 L 872 318' "$WRITE" write
label 915 292 "$WRITE" 'WATCH / MULTI / EXEC'

# replication: primary -> R2, primary -> R1
path 'M 666 346 H 626' "$REPL" repl
path 'M 770 378 C 770 450 270 450 270 382' "$REPL" repl
label 520 446 "$REPL" 'replication (async: a replica may lag; the freshness bound)' middle

# --- boxes --------------------------------------------------------------------

box 170 40 200 68 '#ddf4ff' 'nginx A' '2 workers, cache zone' 'read: R1 by address'
box 420 40 200 68 '#ddf4ff' 'nginx B' '2 workers, cache zone' 'read: replica (Sentinel)'
box 670 40 200 68 '#ddf4ff' 'nginx C' '2 workers, cache zone' 'read: primary (Sentinel)'
box 940 176 170 68 '#fff8c5' 'pitctl' 'redis-sentinel://' 'S1,S2,S3/m'
box 170 310 200 68 '#dafbe1' 'replica R1' 'A reads it by address'
box 420 310 200 68 '#dafbe1' 'replica R2' 'read-only'
box 670 310 200 68 '#ffebe9' 'primary' 'AOF on; every write' 'master "m"'
printf '<rect x="166" y="510" width="708" height="90" rx="10" fill="#f6f8fa" stroke="%s" stroke-dasharray="6 4"/>\n' "$DISC"
box 190 526 200 60 '#eaeef2' 'Sentinel S1' 'quorum 2 of 3'
box 420 526 200 60 '#eaeef2' 'Sentinel S2' 'down-after 1000 ms'
box 650 526 200 60 '#eaeef2' 'Sentinel S3' 'failover-timeout 5000 ms'

# --- legend -------------------------------------------------------------------

y=640
x=170
for item in "$READ|read|reads: GET + invalidations|" \
            "$WRITE|write|writes: last use, pitctl|" \
            "$REPL|repl|replication|" \
            "$DISC|disc|discovery, monitoring|6 4"; do
    c=${item%%|*}; rest=${item#*|}
    m=${rest%%|*}; rest=${rest#*|}
    t=${rest%%|*}; d=${rest#*|}
    path "M $x $y H $(( x + 40 ))" "$c" "$m" "$d"
    label $(( x + 48 )) $(( y + 4 )) '#24292f' "$t"
    x=$(( x + 235 ))
done
label 560 684 '#57606a' 'every nginx also finds the primary through Sentinel (last-use writes); the caches hold entries for ttl=60s, stale=30s' middle
echo '</svg>'
