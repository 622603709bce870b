/**
 * The runner for images with a POSIX shell (tested with BusyBox 1.35 `sh`). It runs each
 * call's `code` as a shell script with `input` on its stdin and the work directory as its
 * current directory, and needs `read -n`/`-d` (BusyBox, bash), `head` and `dd` (with
 * `iflag=count_bytes,fullblock`). The code runs in a subshell of the runner (`. file`), which
 * saves an `exec` of a new shell per call: it cannot change the runner, but it can see the
 * runner's shell variables.
 *
 * Every process start costs time inside a container, so a call with a short script and short
 * input starts two: the subshell and one `head`.
 * - Code and input of up to 256 bytes each are read with the `read` builtin. It reads one byte
 *   per system call, so it never reads past them into the next request. It stops at each NUL
 *   byte, which the runner writes back with `printf`. Longer code or input is read with `dd`,
 *   whose one process costs less than that many single-byte reads (about 1.5 µs each here).
 * - Stdout goes through a FIFO and `head -c` straight to the runner's stdout, so a program
 *   that writes without end is stopped by SIGPIPE one byte past the cap. `head` starts before
 *   the code, so code that uses up the container's PID limit cannot leave the runner unable
 *   to start it (a pipeline would start the code first). The runner does not count output:
 *   it answers with a `stream` frame, whose sections end at a random token read from
 *   `/dev/urandom` at start and unset in the code's subshell, and the host cuts the extra
 *   byte. `head` also waits until every writer of the FIFO is gone, so a background process
 *   that keeps stdout open holds the call (until its deadline) instead of writing into the
 *   next call's output.
 * - Stderr goes to a file on the `/tmp` tmpfs, which is sent (through `head -c`) only when it
 *   is not empty; the test with `[` is a builtin. A program that writes to stderr without end
 *   fills that tmpfs and then gets write errors (ENOSPC) until its deadline.
 *
 * The runner sets `LC_ALL=C` so that `read -n` and `${#var}` count bytes, and gives the code
 * the original value back in its subshell.
 *
 * A call that removes the runner's directory (`rm -rf /tmp/.agentnode-runner`, or a sweep of
 * `/tmp`) loses its stderr; the runner recreates the directory and says so on the call's
 * stderr. A call that kills its own process group (`kill -9 0`) kills `head` too, and gets
 * exit code 137 with the output written before; the runner itself survives that as the
 * container's PID 1, which the kernel shields from signals sent inside the container. The
 * call files are emptied after the response, so a call's code, input and stderr do not stay
 * on the tmpfs for the next call to read.
 *
 * `runner: 'sh'` starts it with `sh -c`; export it to start it another way.
 *
 * @example
 * import { SH_RUNNER_SOURCE } from '@agentnode/container-pool';
 *
 * const spec = { image: 'alpine:3.20', runner: { command: ['/bin/ash', '-c', SH_RUNNER_SOURCE] } };
 */
export const SH_RUNNER_SOURCE = `
scratch=/tmp/.agentnode-runner
mkdir -p "$scratch" || exit 70
[ -p "$scratch/out" ] || mkfifo "$scratch/out" || exit 70
cd "\${AGENTNODE_WORKDIR:-/tmp}" || exit 70
if [ -n "\${LC_ALL+set}" ]; then agentnode_lc_all=$LC_ALL; fi
LC_ALL=C
token=
while [ \${#token} -lt 24 ]; do
  IFS= read -r -n 64 -d '' raw < /dev/urandom
  token=$token\${raw//[!A-Za-z0-9]/}
done
token=\${token:0:32} raw=
read_exact() {
  if [ "$1" -gt 256 ]; then
    dd of="$2" bs=65536 count="$1" iflag=count_bytes,fullblock 2>/dev/null
    return
  fi
  left=$1
  while [ "$left" -gt 0 ]; do
    IFS= read -r -n "$left" -d '' part || exit 0
    printf '%s' "$part"
    left=$((left - \${#part}))
    if [ "$left" -gt 0 ]; then printf '\\0'; left=$((left - 1)); fi
  done > "$2"
}
while IFS=' ' read -r kind id a b c rest; do
  case $kind in
  ping)
    printf 'pong %s\\n' "$id"
    ;;
  call)
    [ -d "$scratch" ] || mkdir -p "$scratch" || exit 70
    [ -p "$scratch/out" ] || mkfifo "$scratch/out" || exit 70
    read_exact "$a" "$scratch/code"
    read_exact "$b" "$scratch/in"
    cap=$((c + 1))
    : > "$scratch/err"
    printf 'stream %s %s\\n' "$id" "$token"
    head -c "$cap" < "$scratch/out" &
    (
      unset token
      if [ -n "\${agentnode_lc_all+set}" ]; then LC_ALL=$agentnode_lc_all; else unset LC_ALL; fi
      . "$scratch/code"
    ) < "$scratch/in" > "$scratch/out" 2> "$scratch/err"
    status=$?
    wait $!
    printf '%s' "$token"
    if [ ! -f "$scratch/err" ]; then
      mkdir -p "$scratch" || exit 70
      echo "agentnode runner: the call removed $scratch, so its stderr was lost"
    elif [ -s "$scratch/err" ]; then
      head -c "$cap" "$scratch/err"
    fi
    printf '%s%s\\n' "$token" "$status"
    : > "$scratch/code"
    : > "$scratch/in"
    : > "$scratch/err"
    ;;
  *)
    echo "agentnode runner: unknown request kind '$kind'" >&2
    exit 2
    ;;
  esac
done
`;
