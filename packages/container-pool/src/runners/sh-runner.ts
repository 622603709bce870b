/**
 * The runner for images with a POSIX shell (tested with BusyBox 1.35 `sh`). It runs each
 * call's `code` as a shell script with `input` on its stdin and the work directory as its
 * current directory, and needs `dd` (with `iflag=count_bytes,fullblock`), `head`, `wc` and
 * `cat`. The code runs in a subshell of the runner (`. file`), which saves an `exec` of a new
 * shell per call: it cannot change the runner, but it can see the runner's shell variables.
 *
 * Every process start costs time inside a container, so a call starts as few as it can:
 * - `dd` reads the code and the input with exact-length reads (a stdio-buffered tool such as
 *   `head -c` may read past the code into the input);
 * - stdout goes through `head -c`, so a program that writes without end is stopped by SIGPIPE
 *   one byte past the cap;
 * - stderr goes to a file on the `/tmp` tmpfs and is cut to the cap when sent. A program that
 *   writes to stderr without end fills that tmpfs and then gets write errors (ENOSPC) until
 *   its deadline.
 *
 * A call that removes the runner's directory (`rm -rf /tmp/.agentnode-runner`, or a sweep of
 * `/tmp`) loses its output; the runner recreates the directory and reports the loss on the
 * call's stderr. The test with `[` is a shell builtin, so the usual case starts no process.
 *
 * The output files are emptied before each call, because a call that kills its own process
 * group (`kill -9 0`) can kill `head` before it opens, and truncates, the output file. The
 * runner itself survives that as the container's PID 1, which the kernel shields from
 * signals sent inside the container. All four call files are emptied again after the
 * response, so a call's code, input and output do not stay on the tmpfs for the next call
 * to read.
 *
 * `runner: 'sh'` starts it with `sh -c`; export it to start it another way.
 *
 * @example
 * import { SH_RUNNER_SOURCE } from '@agentnode/container-pool';
 *
 * const spec = { image: 'alpine:3.20', runner: { command: ['/bin/ash', '-c', SH_RUNNER_SOURCE] } };
 */
export const SH_RUNNER_SOURCE = `
set -o pipefail
scratch=/tmp/.agentnode-runner
mkdir -p "$scratch" || exit 70
cd "\${AGENTNODE_WORKDIR:-/tmp}" || exit 70
read_exact() {
  if [ "$1" -gt 0 ]; then
    dd of="$2" bs=65536 count="$1" iflag=count_bytes,fullblock 2>/dev/null
  else
    : > "$2"
  fi
}
while IFS=' ' read -r kind id a b c rest; do
  case $kind in
  ping)
    printf 'pong %s\\n' "$id"
    ;;
  call)
    [ -d "$scratch" ] || mkdir -p "$scratch" || exit 70
    read_exact "$a" "$scratch/code"
    read_exact "$b" "$scratch/in"
    cap=$((c + 1))
    : > "$scratch/out"
    : > "$scratch/err"
    ( set +o pipefail; . "$scratch/code" ) < "$scratch/in" 2> "$scratch/err" | head -c "$cap" > "$scratch/out"
    status=$?
    if [ ! -f "$scratch/out" ] || [ ! -f "$scratch/err" ]; then
      mkdir -p "$scratch" || exit 70
      : > "$scratch/out"
      echo "agentnode runner: the call removed $scratch, so its output was lost" > "$scratch/err"
    fi
    set -- $(wc -c "$scratch/out" "$scratch/err")
    out_bytes=$1 err_bytes=$3 out_cut=0 err_cut=0
    if [ "$out_bytes" -gt "$c" ]; then out_bytes=$c out_cut=1; fi
    if [ "$err_bytes" -gt "$c" ]; then err_bytes=$c err_cut=1; fi
    printf 'result %s %s %s %s %s %s\\n' "$id" "$status" "$out_bytes" "$err_bytes" "$out_cut" "$err_cut"
    if [ "$out_cut$err_cut" = 00 ]; then
      cat "$scratch/out" "$scratch/err"
    else
      head -c "$out_bytes" "$scratch/out"
      head -c "$err_bytes" "$scratch/err"
    fi
    : > "$scratch/code"
    : > "$scratch/in"
    : > "$scratch/out"
    : > "$scratch/err"
    ;;
  *)
    echo "agentnode runner: unknown request kind '$kind'" >&2
    exit 2
    ;;
  esac
done
`;
