#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vm-run: run one command inside a QEMU guest booted from Debian's kernel.

usage: vm-run [--module zcbuf|zcbuf_test]... [--modprobe NAME[:param=value,...]]...
              [--env KEY=VALUE]... [--timeout SECONDS] [--memory MIB]
              [--cpus N] [--keep] [--screendump-dir DIR] -- COMMAND [ARGS...]

The guest (qemu-system-x86_64 -accel tcg) boots the configured kernel with a
busybox initramfs made on the fly, mounts the host's root read-only over 9p,
gives the command tmpfs for /tmp, /run, HOME, XDG_RUNTIME_DIR and
GST_REGISTRY, loads the requested modules and runs COMMAND in the same
working directory under chroot. The command's output streams to our stdout;
we exit with its status, or with 99 (and a message) when the guest timed
out or died or a module failed to load. A clean exit turns into a failure
(status 1) when the guest's dmesg shows a warning, BUG, oops or the like.
Messages of our own start with "# vm-run:", which TAP parsers ignore.

Screendumps: the guest has a virtio-gpu display. A guest program that
writes NAME.request (containing "ppm" or "png") into the directory named
by $ZCBUF_VM_SCREENDUMP_DIR gets NAME.ppm or NAME.png there: what QEMU's
`screendump` (QMP) saw on the display at that moment (NAME.error with
QEMU's answer if it failed). With --screendump-dir the files are
copied to DIR on the host when the guest is done.

Meson configures this file into the build directory (see meson.build);
the settings below are filled in there and can be overridden with
VM_RUN_<NAME> environment variables (e.g. VM_RUN_KVER).
"""

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = {
    'KVER': '@KVER@',
    'QEMU': '@QEMU@',
    'BUSYBOX': '@BUSYBOX@',
    'ZCBUF_KO': '@ZCBUF_KO@',
    'ZCBUF_TEST_KO': '@ZCBUF_TEST_KO@',
    'EXTRA_KO_DIR': '@EXTRA_KO_DIR@',
    'SOURCE_ROOT': '@SOURCE_ROOT@',
    'BUILD_ROOT': '@BUILD_ROOT@',
}

# Where the guest mounts tmpfs over the host's directories.
TMPFS_DIRS = ('/tmp', '/run', '/var/tmp')

# Modules the initramfs needs to mount the host's root over virtio-9p.
BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p']

# Modules built from Debian's linux-source by meson (see extmod/), for the
# names --modprobe accepts for them: the guest's own modules they need
# (modprobe'd first), then ours in load order; parameters go to the last.
# A .ko two names share (v4l2-mem2mem.ko) is inserted once per boot.
EXTRA_MODULES = {
    'udmabuf': {'needs': [], 'ko': ['udmabuf.ko']},
    'dma_heap': {'needs': [], 'ko': ['dma-heap.ko', 'system_heap.ko']},
    'vkms': {'needs': ['drm_shmem_helper', 'drm_kms_helper'],
             'ko': ['vkms.ko']},
    'vicodec': {'needs': ['videobuf2_v4l2', 'videobuf2_vmalloc'],
                'ko': ['v4l2-mem2mem.ko', 'vicodec.ko']},
    'vim2m': {'needs': ['videobuf2_v4l2', 'videobuf2_vmalloc'],
              'ko': ['v4l2-mem2mem.ko', 'vim2m.ko']},
    'sw_sync': {'needs': [], 'ko': ['sw_sync.ko']},
}

# Our modules (--module NAME), the setting that names each one's .ko.
OUR_MODULES = {'zcbuf': 'ZCBUF_KO', 'zcbuf_test': 'ZCBUF_TEST_KO'}

# Host variables that describe the host session, not the command.
ENV_DROP = re.compile(r'^(HOME|PWD|OLDPWD|SHLVL|_|TMPDIR|TMP|TEMP|TERM|'
                      r'XDG_.*|DISPLAY|WAYLAND_DISPLAY|DBUS_.*|SSH_.*|'
                      r'LS_COLORS|MAKEFLAGS|MFLAGS|MAKELEVEL|GST_REGISTRY.*|'
                      r'VM_RUN_.*|INVOCATION_ID|JOURNAL_STREAM|MAIL|'
                      r'LOGNAME|USER|SUDO_.*)$')

# dmesg lines that fail a run.
DMESG_BAD = re.compile(r'WARNING:|BUG:|kernel BUG|Oops|'
                       r'sleeping function called from invalid context|'
                       r'refcount_t:|general protection fault|'
                       r'Call Trace:|UBSAN:|list_(add|del) corruption|'
                       r'blocked for more than|rcu: INFO:|'
                       r'detected stalls? on CPU')

# A complaint that is vivid's, not ours: its capture and output kthreads
# check that the next frame is still ahead (time_is_after_jiffies) and then
# compute the wait from jiffies again; under TCG a tick can fall between the
# two, the wait comes out negative, and schedule_timeout() prints "wrong
# timeout value" with a stack (6.1's vivid-kthread-cap.c and -out.c). Seen
# in CI with vivid's output looped back. The trace is reported, not failed.
VIVID_TIMEOUT_RACE = re.compile(r'schedule_timeout: wrong timeout value')
VIVID_THREAD = re.compile(r'vivid_thread_vid_(cap|out)\+')

EXIT_HARNESS = 99


def say(msg):
    sys.stdout.write('# vm-run: %s\n' % msg)
    sys.stdout.flush()


def die(msg):
    say('error: ' + msg)
    sys.exit(EXIT_HARNESS)


def setting(name):
    value = os.environ.get('VM_RUN_' + name, CONFIG[name])
    if value.startswith('@') and value.endswith('@'):
        return ''
    return value


def usage_error(msg):
    sys.stderr.write('vm-run: %s\n%s' % (msg, __doc__.split('\n\n')[1]))
    sys.exit(2)


def parse_args(argv):
    if '--' not in argv:
        usage_error('missing "--" before the command')
    split = argv.index('--')
    opts, command = argv[:split], argv[split + 1:]
    if not command:
        usage_error('no command')
    args = {'modules': [], 'modprobe': [], 'env': [], 'timeout': 300.0,
            'memory': 2048, 'cpus': 2, 'keep': False, 'command': command,
            'screendump_dir': None}
    i = 0
    while i < len(opts):
        opt = opts[i]
        if opt == '--keep':
            args['keep'] = True
            i += 1
            continue
        if '=' in opt and opt.startswith('--'):
            opt, value = opt.split('=', 1)
        elif i + 1 < len(opts):
            value = opts[i + 1]
            i += 1
        else:
            usage_error('%s needs a value' % opt)
        i += 1
        if opt == '--module':
            if value not in OUR_MODULES:
                usage_error('unknown --module %s (zcbuf or zcbuf_test)' %
                            value)
            args['modules'].append(value)
        elif opt == '--modprobe':
            args['modprobe'].append(parse_modprobe(value))
        elif opt == '--env':
            if '=' not in value:
                usage_error('--env wants KEY=VALUE, got %r' % value)
            args['env'].append(tuple(value.split('=', 1)))
        elif opt == '--timeout':
            args['timeout'] = float(value)
        elif opt == '--memory':
            args['memory'] = int(value)
        elif opt == '--cpus':
            args['cpus'] = int(value)
        elif opt == '--screendump-dir':
            args['screendump_dir'] = value
        else:
            usage_error('unknown option %s' % opt)
    return args


def parse_modprobe(value):
    """NAME[:p=v,...] -> (name, ['p=v', ...]); a piece without '=' continues
    the previous value, so vivid:allocators=0,1 keeps its array."""
    name, _, rest = value.partition(':')
    name = name.replace('-', '_')
    params = []
    for piece in rest.split(',') if rest else []:
        if '=' in piece or not params:
            params.append(piece)
        else:
            params[-1] += ',' + piece
    return name, params


# ---- initramfs -------------------------------------------------------------

def cpio_entry(out, name, mode, data=b'', rdev=(0, 0), ino=[0]):
    ino[0] += 1
    name_b = name.encode() + b'\0'
    fields = [ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
              len(name_b), 0]
    out.write(b'070701' + b''.join(b'%08X' % f for f in fields))
    out.write(name_b)
    out.write(b'\0' * (-(110 + len(name_b)) % 4))
    out.write(data)
    out.write(b'\0' * (-len(data) % 4))


def boot_module_files(kver):
    """The .ko files BOOT_MODULES need, dependencies first, once each."""
    res = subprocess.run(['modprobe', '-S', kver, '--show-depends', '-a'] +
                         BOOT_MODULES, capture_output=True, text=True)
    if res.returncode:
        die('modprobe --show-depends failed: ' + res.stderr.strip())
    files = []
    for line in res.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == 'insmod' and parts[1] not in files:
            files.append(parts[1])
    return files


def read_module(path):
    with open(path, 'rb') as f:
        data = f.read()
    if path.endswith('.xz'):
        import lzma
        data = lzma.decompress(data)
    elif path.endswith('.zst'):
        data = subprocess.run(['zstd', '-dc', path], check=True,
                              capture_output=True).stdout
    return data


INIT = r'''#!/bin/busybox sh
# Guest init written by vm-run: mount the host, run setup.sh then job.sh
# under chroot, save the statuses and dmesg in the job share, power off.
B=/bin/busybox
$B mkdir -p /proc /sys /dev /host /hostraw /job
$B mount -t proc proc /proc
$B mount -t sysfs sysfs /sys
$B mount -t devtmpfs devtmpfs /dev
for m in $($B cat /modules.list); do
	$B insmod /modules/$m || echo "vm-run-init: insmod $m failed"
done
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host || echo "vm-run-init: cannot mount the host root"
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 job /job || echo "vm-run-init: cannot mount the job share"
$B mount --bind /host /hostraw
$B mount -t proc proc /host/proc
$B mount -t sysfs sysfs /host/sys
$B mount -t devtmpfs devtmpfs /host/dev
$B mount -t debugfs debugfs /host/sys/kernel/debug
$B mkdir -p /host/dev/shm /host/dev/pts
$B mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
$B mount -t devpts devpts /host/dev/pts
$B mount -t tmpfs -o mode=1777 tmpfs /host/tmp
$B mount -t tmpfs -o mode=755 tmpfs /host/run
$B mount -t tmpfs -o mode=1777 tmpfs /host/var/tmp
# Host paths the command needs that the tmpfs mounts hide (a clone in /tmp)
while read -r p; do
	$B mkdir -p "/host$p"
	$B mount --bind "/hostraw$p" "/host$p"
done < /job/keep.list
$B mkdir -p /host/run/vm-job
$B mount --bind /job /host/run/vm-job
$B chroot /host /bin/sh /run/vm-job/setup.sh </dev/null >/dev/console 2>&1
echo $? > /job/setup-status
if [ "$($B cat /job/setup-status)" = 0 ]; then
	# Shortly before the host's time limit: what every task waits on
	# (user space and kernel), and the dmesg so far, for a hung command.
	( $B sleep "$($B cat /job/watchdog-after)"
	  echo "# vm-run: the command still runs near the time limit; its tasks:"
	  for t in /proc/[0-9]*/task/[0-9]*; do
		p=${t#/proc/}; p=${p%%/*}
		[ -e /proc/$p/exe ] || continue
		echo "# vm-run: task ${t##*/} of $p ($($B cat $t/comm)) state" \
			"$($B sed -n 's/^State:[[:space:]]*//p' $t/status)" \
			"wchan $($B cat $t/wchan)"
		$B sed 's/^/# vm-run:     /' $t/stack
	  done
	  echo w > /proc/sysrq-trigger
	  $B dmesg > /job/dmesg ) </dev/null >/dev/console 2>&1 &
	$B chroot /host /bin/sh /run/vm-job/job.sh </dev/null >/dev/console 2>&1
	echo $? > /job/status
fi
$B dmesg > /job/dmesg
$B sync
$B umount /host/run/vm-job
$B umount /job
$B poweroff -f
'''


def make_initramfs(path, kver, busybox):
    modules = boot_module_files(kver)
    with open(path, 'wb') as out:
        for d in ('bin', 'dev', 'modules', 'proc', 'sys', 'host', 'hostraw',
                  'job'):
            cpio_entry(out, d, stat.S_IFDIR | 0o755)
        cpio_entry(out, 'dev/console', stat.S_IFCHR | 0o600, rdev=(5, 1))
        with open(busybox, 'rb') as f:
            cpio_entry(out, 'bin/busybox', stat.S_IFREG | 0o755, f.read())
        cpio_entry(out, 'bin/sh', stat.S_IFLNK | 0o777, b'busybox')
        cpio_entry(out, 'init', stat.S_IFREG | 0o755, INIT.encode())
        names = []
        for m in modules:
            name = os.path.basename(m)
            for ext in ('.xz', '.zst'):
                if name.endswith(ext):
                    name = name[:-len(ext)]
            names.append(name)
            cpio_entry(out, 'modules/' + name, stat.S_IFREG | 0o644,
                       read_module(m))
        cpio_entry(out, 'modules.list', stat.S_IFREG | 0o644,
                   ('\n'.join(names) + '\n').encode())
        cpio_entry(out, 'TRAILER!!!', 0)


# ---- the job ---------------------------------------------------------------

def q(s):
    return shlex.quote(s)


def setup_script(args):
    """Loads the modules; any failure ends the run before the command."""
    lines = ['# written by vm-run: load the requested modules']

    def load(cmd, what):
        lines.append('%s || { echo "# vm-run: failed to load %s"; exit 1; }'
                     % (cmd, what))

    for name in args['modules']:
        ko = setting(OUR_MODULES[name])
        if not ko or not os.path.exists(ko):
            die('%s.ko was not built (%r): is linux-headers-%s installed?'
                % (name, ko, setting('KVER')))
        load('insmod ' + q(ko), name + '.ko')
    inserted = set()
    for name, params in args['modprobe']:
        if name in EXTRA_MODULES:
            kodir = setting('EXTRA_KO_DIR')
            for need in EXTRA_MODULES[name]['needs']:
                load('modprobe ' + q(need), need)
            kos = EXTRA_MODULES[name]['ko']
            for ko in kos:
                path = os.path.join(kodir, ko) if kodir else ''
                if not path or not os.path.exists(path):
                    die('%s was not built: it needs the linux-source-%s '
                        'package (listed in scripts/debian-packages.txt) and '
                        'the vm-extra-modules-* targets' %
                        (ko, '.'.join(setting('KVER').split('.')[:2])))
                if ko in inserted:
                    continue
                inserted.add(ko)
                last = [q(p) for p in params] if ko == kos[-1] else []
                load(' '.join(['insmod', q(path)] + last), ko)
        else:
            load(' '.join(['modprobe', q(name)] + [q(p) for p in params]),
                 name)
    lines.append('exit 0')
    return '\n'.join(lines) + '\n'


def job_env(args):
    env = {k: v for k, v in os.environ.items() if not ENV_DROP.match(k)}
    env.update({'HOME': '/tmp/home', 'TMPDIR': '/tmp',
                'XDG_RUNTIME_DIR': '/run/user/%d' % os.getuid(),
                'GST_REGISTRY': '/tmp/gst-registry.bin', 'TERM': 'dumb',
                'ZCBUF_VM': '1',
                'ZCBUF_VM_SCREENDUMP_DIR': '/run/vm-job/' + SCREENDUMPS})
    env.update(dict(args['env']))
    return env


def job_script(args):
    env = job_env(args)
    lines = ['# written by vm-run: run the command',
             'mkdir -p %s %s 2>/dev/null' % (q(env['HOME']),
                                             q(env['XDG_RUNTIME_DIR'])),
             'chmod 700 %s 2>/dev/null' % q(env['XDG_RUNTIME_DIR']),
             'cd %s || { echo "# vm-run: no %s in the guest"; exit 125; }'
             % (q(os.getcwd()), os.getcwd()),
             'exec env -i ' + ' '.join(q('%s=%s' % kv) for kv in
                                       sorted(env.items())) +
             ' ' + ' '.join(q(a) for a in args['command'])]
    return '\n'.join(lines) + '\n'


def keep_paths(args):
    """Host directories under a guest tmpfs that the command needs."""
    paths = [setting('SOURCE_ROOT'), setting('BUILD_ROOT'), os.getcwd(),
             setting('EXTRA_KO_DIR')]
    for p in [args['command'][0], setting('ZCBUF_KO'),
              setting('ZCBUF_TEST_KO')]:
        if p and os.path.isabs(p):
            paths.append(os.path.dirname(p))
    keep = []
    for p in paths:
        p = os.path.realpath(p) if p else ''
        if (p and os.path.isdir(p) and
                any(p.startswith(d + '/') for d in TMPFS_DIRS) and
                not any(p == k or p.startswith(k + '/') for k in keep)):
            keep = [k for k in keep if not k.startswith(p + '/')] + [p]
    return keep


# ---- running qemu ----------------------------------------------------------

def kernel_cmdline():
    return ' '.join([
        'console=ttyS0', 'loglevel=1', 'log_buf_len=1M', 'panic=-1',
        'rdinit=/init', 'mitigations=off',
        # under TCG on a loaded host the IO-APIC timer check can miss its
        # window and panic the boot ("IO-APIC + timer doesn't work")
        'no_timer_check',
        # no fbdev console on virtio-gpu: it only costs emulated cycles
        'drm_kms_helper.fbdev_emulation=0',
    ])


def qemu_command(args, tmp, jobdir):
    kver = setting('KVER')
    return [
        setting('QEMU') or 'qemu-system-x86_64',
        '-accel', 'tcg', '-cpu', 'max', '-m', str(args['memory']),
        '-smp', str(args['cpus']), '-nodefaults', '-no-reboot',
        '-display', 'none', '-vga', 'none',
        '-chardev', 'stdio,id=con,signal=off', '-serial', 'chardev:con',
        '-kernel', '/boot/vmlinuz-' + kver,
        '-initrd', os.path.join(tmp, 'initramfs.cpio'),
        '-append', kernel_cmdline(),
        '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,'
                   'readonly=on,multidevs=remap',
        '-virtfs', 'local,path=%s,mount_tag=job,security_model=none,'
                   'multidevs=remap' % jobdir,
        '-device', 'virtio-gpu-pci',
        '-qmp', 'unix:%s,server=on,wait=off' % os.path.join(tmp, 'qmp'),
    ]


# ---- screendumps -----------------------------------------------------------

# In the job share: requests from the guest, images from us.
SCREENDUMPS = 'screendump'


class Monitor:
    """QEMU's machine protocol (QMP) on a Unix socket: one command at a
    time; connected on first use."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.pending = b''

    def _message(self):
        while b'\n' not in self.pending:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError('the monitor closed')
            self.pending += chunk
        line, self.pending = self.pending.split(b'\n', 1)
        return json.loads(line)

    def execute(self, command, arguments=None):
        """None on success, else the monitor's error text."""
        if self.sock is None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(60)
            self.sock.connect(self.path)
            self._message()  # the greeting
            self.execute('qmp_capabilities')
        request = {'execute': command}
        if arguments:
            request['arguments'] = arguments
        self.sock.sendall(json.dumps(request).encode() + b'\n')
        while True:
            answer = self._message()
            if 'return' in answer:
                return None
            if 'error' in answer:
                return answer['error'].get('desc', str(answer['error']))
            # an event: not our answer


def serve_screendumps(monitor, requests, done):
    """Answers the guest's NAME.request files until done is set."""
    while not done.wait(0.05):
        try:
            names = sorted(os.listdir(requests))
        except OSError:
            continue
        for name in names:
            if not name.endswith('.request'):
                continue
            base = name[:-len('.request')]
            request = os.path.join(requests, name)
            fmt = (read_file(request) or '').strip() or 'ppm'
            os.unlink(request)
            if fmt not in ('ppm', 'png'):
                answer = 'unknown format %r (ppm or png)' % fmt
            else:
                partial = os.path.join(requests, '.%s.screendump' % base)
                try:
                    answer = monitor.execute('screendump', {
                        'filename': partial, 'format': fmt})
                except (OSError, ValueError) as e:
                    answer = 'the monitor failed: %s' % e
                if not answer and os.path.exists(partial):
                    os.rename(partial, os.path.join(requests, base + '.' + fmt))
                    continue
                answer = answer or 'screendump wrote nothing'
            with open(os.path.join(requests, '.%s.error' % base), 'w') as f:
                f.write(answer + '\n')
            os.rename(os.path.join(requests, '.%s.error' % base),
                      os.path.join(requests, base + '.error'))


# The kernel's own farewell on the console: not the command's output.
POWER_DOWN = re.compile(rb'^\[ *[0-9.]+\] reboot: Power down\n$')


def pump(src, lines):
    """Copy the guest console to stdout, dropping the tty's carriage returns."""
    for raw in iter(src.readline, b''):
        line = raw.replace(b'\r\n', b'\n').replace(b'\r', b'')
        if POWER_DOWN.match(line):
            continue
        lines.append(line)
        del lines[:-200]
        sys.stdout.buffer.write(line)
        sys.stdout.flush()


def watchdog_after(timeout):
    """Seconds into the command at which the guest describes its tasks:
    before the host's limit, which also counts the boot (under TCG about
    ten seconds, more on a busy host)."""
    return max(1, int(timeout - min(60, timeout / 2)))


def read_file(path):
    try:
        with open(path, errors='replace') as f:
            return f.read()
    except OSError:
        return None


def known_vivid_traces(lines):
    """Indexes of the lines of every trace that vivid's timeout race
    printed: the "wrong timeout value" line, the trace up to </TASK>, when
    that trace is in one of vivid's kthreads."""
    known = set()
    for start, line in enumerate(lines):
        if not VIVID_TIMEOUT_RACE.search(line):
            continue
        end = start
        while end + 1 < len(lines) and end - start < 40:
            end += 1
            if '</TASK>' in lines[end]:
                break
        block = range(start, end + 1)
        if any(VIVID_THREAD.search(lines[i]) for i in block):
            known.update(block)
    return known


def check_dmesg(jobdir):
    dmesg = read_file(os.path.join(jobdir, 'dmesg'))
    if dmesg is None:
        say('no dmesg came back from the guest')
        return False
    lines = dmesg.splitlines()
    known = known_vivid_traces(lines)
    for i in sorted(known):
        if DMESG_BAD.search(lines[i]):
            say('dmesg (vivid\'s timeout race, not failed): ' + lines[i])
    bad = [line for i, line in enumerate(lines)
           if DMESG_BAD.search(line) and i not in known]
    if bad:
        say('the guest kernel complained (dmesg):')
        for line in bad:
            say('dmesg: ' + line)
        # Print the context of the first complaint too.
        lines = dmesg.splitlines()
        first = lines.index(bad[0])
        for line in lines[max(0, first - 5):first + 40]:
            say('dmesg| ' + line)
        return False
    return True


def main():
    args = parse_args(sys.argv[1:])
    kver = setting('KVER')
    if not kver:
        die('no guest kernel configured')
    for path in ('/boot/vmlinuz-' + kver, setting('BUSYBOX')):
        if not path or not os.path.exists(path):
            die('missing %r' % path)

    tmp = tempfile.mkdtemp(prefix='zcbuf-vm-')
    jobdir = os.path.join(tmp, 'job')
    os.mkdir(jobdir)
    requests = os.path.join(jobdir, SCREENDUMPS)
    os.mkdir(requests)
    served = threading.Event()
    proc = None

    def stop(signum, frame):
        if proc and proc.poll() is None:
            proc.kill()
        if not args['keep']:
            shutil.rmtree(tmp, ignore_errors=True)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with open(os.path.join(jobdir, 'setup.sh'), 'w') as f:
            f.write(setup_script(args))
        with open(os.path.join(jobdir, 'job.sh'), 'w') as f:
            f.write(job_script(args))
        with open(os.path.join(jobdir, 'watchdog-after'), 'w') as f:
            f.write('%d\n' % watchdog_after(args['timeout']))
        with open(os.path.join(jobdir, 'keep.list'), 'w') as f:
            f.write(''.join(p + '\n' for p in keep_paths(args)))
        make_initramfs(os.path.join(tmp, 'initramfs.cpio'), kver,
                       setting('BUSYBOX'))

        start = time.monotonic()
        tail = []
        proc = subprocess.Popen(qemu_command(args, tmp, jobdir),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        reader = threading.Thread(target=pump, args=(proc.stdout, tail),
                                  daemon=True)
        reader.start()
        server = threading.Thread(
            target=serve_screendumps,
            args=(Monitor(os.path.join(tmp, 'qmp')), requests, served),
            daemon=True)
        server.start()
        try:
            proc.wait(timeout=args['timeout'])
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            reader.join(5)
            if check_dmesg(jobdir):
                # The guest's watchdog wrote it: its last words.
                lines = read_file(os.path.join(jobdir, 'dmesg')).splitlines()
                for line in lines[-20:]:
                    say('dmesg| ' + line)
            die('the guest timed out after %g s (--timeout)' %
                args['timeout'])
        reader.join(5)
        served.set()
        server.join(5)
        elapsed = time.monotonic() - start
        if args['screendump_dir']:
            os.makedirs(args['screendump_dir'], exist_ok=True)
            for name in sorted(os.listdir(requests)):
                if not name.startswith('.'):
                    shutil.copy(os.path.join(requests, name),
                                args['screendump_dir'])

        setup = read_file(os.path.join(jobdir, 'setup-status'))
        status = read_file(os.path.join(jobdir, 'status'))
        dmesg_ok = check_dmesg(jobdir)
        if setup is None:
            die('the guest died before running the command (qemu exit %d)'
                % proc.returncode)
        if setup.strip() != '0':
            die('loading the modules failed (see above)')
        if status is None:
            die('the guest died while running the command (qemu exit %d)'
                % proc.returncode)
        code = int(status.strip())
        say('command exited with %d after %.1f s in the guest' %
            (code, elapsed))
        if code == 0 and not dmesg_ok:
            return 1
        return code
    finally:
        if args['keep']:
            say('kept ' + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
