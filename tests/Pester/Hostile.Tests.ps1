#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Hostile sandboxes (issue 4, item 6): code inside the sandbox is the attacker. Copy-out must not write outside the
# destination, fork bombs and memory hogs hit their limits without hurting the module, the sandbox sees neither the
# engine nor the host, runs with exactly the documented capabilities, and -ReadOnly / -User do what they say.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'hostile'

    function Measure-Call {
        # Runs the block, catching terminating errors too; returns output, errors, the command's stderr lines (which 2>&1
        # turns into error records, as for a native command) and duration.
        param([Parameter(Mandatory)] [scriptblock] $ScriptBlock)
        $ErrorActionPreference = 'Continue'   # every error the cmdlet writes, whatever the runner's preference
        $all = [System.Collections.Generic.List[object]]::new()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        try { & $ScriptBlock 2>&1 | ForEach-Object { $all.Add($_) } } catch { $all.Add($_) }
        $clock.Stop()
        $isStdErr = { $_ -is [System.Management.Automation.ErrorRecord] -and $_.FullyQualifiedErrorId -like 'NativeCommandError*' }
        [pscustomobject]@{
            Output  = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            Errors  = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | Where-Object { -not (& $isStdErr) })
            StdErr  = @($all | Where-Object $isStdErr | ForEach-Object { "$_" })
            Seconds = $clock.Elapsed.TotalSeconds
        }
    }

    function Get-TreeSnapshot {
        # Every path under a folder (links not followed) with its type and, for files, a hash: to prove nothing changed.
        param([Parameter(Mandatory)] [string] $Path)
        Get-ChildItem -LiteralPath $Path -Recurse -Force -ErrorAction SilentlyContinue | ForEach-Object {
            $kind = if ($_.LinkType) { "link->$($_.LinkTarget)" } elseif ($_.PSIsContainer) { 'dir' } else { (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash }
            '{0} {1}' -f $_.FullName.Substring($Path.Length), $kind
        } | Sort-Object
    }

    function Get-LinkOutside {
        # Symbolic links under Root whose target (taken relative to the link's folder) lies outside Root.
        param([Parameter(Mandatory)] [string] $Root)
        $full = [System.IO.Path]::GetFullPath($Root).TrimEnd('/')
        Get-ChildItem -LiteralPath $Root -Recurse -Force -ErrorAction SilentlyContinue | Where-Object LinkType | ForEach-Object {
            $target = [System.IO.Path]::GetFullPath($_.LinkTarget, (Split-Path -Parent $_.FullName))
            if ($target -ne $full -and -not $target.StartsWith("$full/")) { "$($_.FullName) -> $($_.LinkTarget)" }
        }
    }

    function Get-CgroupPids {
        # The pids controller of a container, read on the host: Current and Max.
        param([Parameter(Mandatory)] [string] $Id)
        foreach ($dir in "/sys/fs/cgroup/pids/docker/$Id", "/sys/fs/cgroup/pids/system.slice/docker-$Id.scope",
                         "/sys/fs/cgroup/system.slice/docker-$Id.scope", "/sys/fs/cgroup/docker/$Id") {
            if (Test-Path -LiteralPath "$dir/pids.current") {
                return [pscustomobject]@{ Current = [int](Get-Content -LiteralPath "$dir/pids.current"); Max = "$(Get-Content -LiteralPath "$dir/pids.max")".Trim() }
            }
        }
        $pids = docker stats --no-stream --format '{{.PIDs}}' $Id
        [pscustomobject]@{ Current = [int]$pids; Max = "$((Get-ContainerInspect $Id).HostConfig.PidsLimit)" }
    }

    # Linux capability numbers (include/uapi/linux/capability.h).
    $script:CapabilityNames = @(
        'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
        'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
        'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
        'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
        'PERFMON', 'BPF', 'CHECKPOINT_RESTORE')

    function ConvertFrom-CapabilityMask {
        # '00000000000004fb' -> CHOWN, DAC_OVERRIDE, ... (sorted)
        param([Parameter(Mandatory)] [string] $Hex)
        $mask = [System.Numerics.BigInteger]::Parse('0' + $Hex.Trim(), [System.Globalization.NumberStyles]::HexNumber)
        $names = for ($bit = 0; $bit -lt 64; $bit++) {
            if (-not ($mask -band ([System.Numerics.BigInteger]::One -shl $bit)).IsZero) {
                if ($bit -lt $script:CapabilityNames.Count) { $script:CapabilityNames[$bit] } else { "CAP_$bit" }
            }
        }
        @($names | Sort-Object)
    }

    function Get-StatusField {
        # A field of /proc/self/status text: Get-StatusField $lines CapEff
        param([string[]] $Lines, [string] $Field)
        $line = $Lines | Where-Object { $_ -match "^${Field}:\s" } | Select-Object -First 1
        if ($line) { ($line -split ':\s*', 2)[1].Trim() }
    }

    # The set about_Sandbox documents ("All Linux capabilities are dropped except CHOWN, ... and NET_BIND_SERVICE.").
    $about = Get-Content -Raw -LiteralPath (Join-Path (Get-TestRepoRoot) 'docs/en-US/about_Sandbox.md')
    $about = $about -replace '\s+', ' '
    $script:DocumentedCapabilities = if ($about -match 'dropped except ([A-Z_, ]+?) and ([A-Z_]+)\.') {
        @(($Matches[1] -split ',\s*') + $Matches[2] | ForEach-Object Trim | Sort-Object)
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Hostile sandboxes' {

    Context 'copy-out of links made inside the sandbox' {
        BeforeAll {
            $script:Linky = New-Sandbox -Name (New-TestName 'links')
            Invoke-SandboxCommand -Sandbox $Linky -Command (@(
                    'mkdir -p /workspace/out/sub'
                    'echo safe > /workspace/out/safe.txt'
                    'echo inner > /workspace/out/sub/inner.txt'
                    'ln -s /etc /workspace/out/etc-link'
                    'ln -s ../../../../tmp /workspace/out/up'
                    'ln -s /workspace/out/loop /workspace/out/loop'
                    'ln -s ../../.. /workspace/out/sub/esc'
                    'ln -s safe.txt /workspace/out/ok-link'
                    'ln -s ../safe.txt /workspace/out/sub/ok-up'
                    'ln -s self-loop /workspace/out/self-loop'
                ) -join ' && ') | Out-Null
            $LASTEXITCODE | Should -Be 0
        }

        It 'refuses every link that points outside, writes nothing outside the destination, and still copies the safe files' {
            $root = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'links') -Force
            $dest = New-Item -ItemType Directory -Path (Join-Path $root 'dest')
            $canary = New-Item -ItemType Directory -Path (Join-Path $root 'canary')
            Set-Content -LiteralPath (Join-Path $canary 'canary.txt') -Value 'canary'
            $canaryBefore = Get-TreeSnapshot $canary.FullName

            $r = Measure-Call { Copy-SandboxItem -Sandbox $Linky -FromSandbox -Path /workspace/out -Destination $dest -Recurse }

            # Refused, one error each, named by the entry.
            $r.Errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Select-Object -Unique | Should -Be 'UnsafeArchiveEntry'
            $r.Errors | ForEach-Object { $_.CategoryInfo.Category } | Select-Object -Unique | Should -Be 'SecurityError'
            @($r.Errors.TargetObject | Sort-Object) | Should -Be @('out/etc-link', 'out/loop', 'out/sub/esc', 'out/up')

            # Nothing outside.
            @(Get-ChildItem -LiteralPath $root -Force -Name | Sort-Object) | Should -Be @('canary', 'dest')
            Get-TreeSnapshot $canary.FullName | Should -Be $canaryBefore
            Get-LinkOutside $dest.FullName | Should -BeNullOrEmpty
            Test-Path -LiteralPath (Join-Path $dest 'out/etc-link') | Should -BeFalse
            Test-Path -LiteralPath (Join-Path $dest 'out/up') | Should -BeFalse

            # The safe part arrived, links inside included.
            Get-Content -LiteralPath (Join-Path $dest 'out/safe.txt') | Should -Be 'safe'
            Get-Content -LiteralPath (Join-Path $dest 'out/sub/inner.txt') | Should -Be 'inner'
            (Get-Item -LiteralPath (Join-Path $dest 'out/ok-link')).LinkTarget | Should -Be 'safe.txt'
            Get-Content -LiteralPath (Join-Path $dest 'out/sub/ok-up') | Should -Be 'safe'
        }

        It 'refuses a source path that is itself a link pointing outside' {
            $dest = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'linksrc') -Force
            $r = Measure-Call { Copy-SandboxItem -Sandbox $Linky -FromSandbox -Path /workspace/out/etc-link -Destination $dest }
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'UnsafeArchiveEntry,*'
            @(Get-ChildItem -LiteralPath $dest -Force) | Should -BeNullOrEmpty
        }
    }

    Context 'copy-out of a crafted archive (../ entries, absolute paths, links to pass through)' -Skip:(-not (Get-Command python3 -CommandType Application -ErrorAction SilentlyContinue)) {
        # The engine builds archives itself, so a crafted one comes from a stand-in engine on a socket of this file:
        # it answers /version and the archive API (nothing else) with a tar holding every trick.
        BeforeAll {
            $script:FakeRoot = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'fake') -Force
            $script:FakeSocket = Join-Path $FakeRoot 'engine.sock'
            $script:Canary = New-Item -ItemType Directory -Path (Join-Path $FakeRoot 'canary')
            Set-Content -LiteralPath (Join-Path $Canary 'victim.txt') -Value 'original'
            $fake = Join-Path $FakeRoot 'fake_engine.py'
            Set-Content -LiteralPath $fake -Value @'
import base64, io, json, os, socketserver, sys, tarfile, time
from http.server import BaseHTTPRequestHandler

sock, canary = sys.argv[1], sys.argv[2]

def build_tar():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tar:
        def add(name, kind=tarfile.REGTYPE, data=b'', link=''):
            info = tarfile.TarInfo(name)
            info.type = kind; info.mtime = int(time.time()); info.linkname = link
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add('out/', tarfile.DIRTYPE)
        add('out/safe.txt', data=b'safe\n')
        add('../evil-dotdot.txt', data=b'evil\n')
        add('out/../../evil-middle.txt', data=b'evil\n')
        add(canary + '/evil-absolute.txt', data=b'evil\n')
        add('out/esc', tarfile.SYMTYPE, link='../..')
        add('out/abs-link', tarfile.SYMTYPE, link=canary)
        add('out/dot', tarfile.SYMTYPE, link='.')
        add('out/dot/evil-through-new-link.txt', data=b'evil\n')
        add('out/pre/evil-through-existing-link.txt', data=b'evil\n')
        add('out/victim', data=b'replaced\n')
        add('out/hard-outside', tarfile.LNKTYPE, link='/etc/hostname')
        add('out/hard-inside', tarfile.LNKTYPE, link='out/safe.txt')
        add('out/fifo', tarfile.FIFOTYPE)
        add('out/sub/inner.txt', data=b'inner\n')
    return buf.getvalue()

BODY = build_tar()
STAT = base64.b64encode(json.dumps({'name': 'out', 'size': 4096, 'mode': 2147484141, 'mtime': '2024-01-01T00:00:00Z', 'linkTarget': ''}).encode()).decode()

class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def address_string(self): return 'unix'
    def log_message(self, *a): pass
    def reply(self, code, body=b'', ctype='application/json', extra=None):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in (extra or {}).items(): self.send_header(k, v)
        self.end_headers()
        if self.command != 'HEAD': self.wfile.write(body)
    def route(self):
        path = self.path.split('?')[0]
        if path.endswith('/_ping'): return self.reply(200, b'OK', 'text/plain')
        if path.endswith('/version'):
            return self.reply(200, json.dumps({'Version': '20.10.24', 'ApiVersion': '1.41', 'MinAPIVersion': '1.12', 'Os': 'linux', 'Arch': 'amd64'}).encode())
        if '/archive' in path:
            return self.reply(200, BODY, 'application/x-tar', {'X-Docker-Container-Path-Stat': STAT})
        return self.reply(404, json.dumps({'message': 'stand-in engine: no ' + path}).encode())
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = route

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

if os.path.exists(sock): os.unlink(sock)
with Server(sock, Handler) as server:
    server.serve_forever()
'@
            $script:FakeEngine = Start-Process -FilePath python3 -PassThru -ArgumentList $fake, $FakeSocket, $Canary.FullName `
                -RedirectStandardOutput (Join-Path $FakeRoot 'fake.out') -RedirectStandardError (Join-Path $FakeRoot 'fake.err')
            $ready = Wait-Until {
                $socket = [System.Net.Sockets.Socket]::new([System.Net.Sockets.AddressFamily]::Unix, [System.Net.Sockets.SocketType]::Stream, [System.Net.Sockets.ProtocolType]::Unspecified)
                try { $socket.Connect([System.Net.Sockets.UnixDomainSocketEndPoint]::new($FakeSocket)); $true } catch { $false } finally { $socket.Dispose() }
            } -TimeoutSec 10 -IntervalMs 50
            if (-not $ready) { throw "The stand-in engine did not start: $(Get-Content -Raw (Join-Path $FakeRoot 'fake.err'))" }
            # A real sandbox object; its archive requests go to the stand-in engine through -DockerHost.
            $script:Victim = New-Sandbox -Name (New-TestName 'crafted')
            $script:Expected = @('../evil-dotdot.txt', 'out/../../evil-middle.txt', "$($Canary.FullName)/evil-absolute.txt", 'out/esc', 'out/abs-link',
                'out/dot/evil-through-new-link.txt', 'out/pre/evil-through-existing-link.txt', 'out/hard-outside', 'out/fifo') | Sort-Object
        }

        AfterAll {
            if ($script:FakeEngine -and -not $script:FakeEngine.HasExited) { Stop-Process -Id $script:FakeEngine.Id -ErrorAction SilentlyContinue }
        }

        It 'into an existing folder: every unsafe entry is refused with UnsafeArchiveEntry and nothing lands outside' {
            $area = New-Item -ItemType Directory -Path (Join-Path $FakeRoot 'existing') -Force
            $dest = New-Item -ItemType Directory -Path (Join-Path $area 'dest')
            # Links the destination already has (from an earlier copy, or the user's own) must not be written through.
            $null = New-Item -ItemType Directory -Path (Join-Path $dest 'out')
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $dest 'out/pre') -Target $Canary.FullName
            $null = New-Item -ItemType SymbolicLink -Path (Join-Path $dest 'out/victim') -Target (Join-Path $Canary 'victim.txt')
            $canaryBefore = Get-TreeSnapshot $Canary.FullName

            $r = Measure-Call { Copy-SandboxItem -Sandbox $Victim -DockerHost "unix://$FakeSocket" -FromSandbox -Path /workspace/out -Destination $dest -Recurse }

            $r.Errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Select-Object -Unique | Should -Be 'UnsafeArchiveEntry'
            @($r.Errors.TargetObject | Sort-Object) | Should -Be $Expected
            $r.Errors | ForEach-Object { $_.CategoryInfo.Category } | Select-Object -Unique | Should -Be 'SecurityError'

            Get-TreeSnapshot $Canary.FullName | Should -Be $canaryBefore
            Get-Content -LiteralPath (Join-Path $Canary 'victim.txt') | Should -Be 'original'
            @(Get-ChildItem -LiteralPath $area -Force -Name) | Should -Be @('dest')
            @(Get-ChildItem -LiteralPath $FakeRoot -Recurse -Force -File | Where-Object Name -like 'evil*') | Should -BeNullOrEmpty
            Get-LinkOutside $dest.FullName | Where-Object { $_ -notlike '*/out/pre -> *' } | Should -BeNullOrEmpty   # out/pre is the test's own

            Get-Content -LiteralPath (Join-Path $dest 'out/safe.txt') | Should -Be 'safe'
            Get-Content -LiteralPath (Join-Path $dest 'out/hard-inside') | Should -Be 'safe'
            Get-Content -LiteralPath (Join-Path $dest 'out/sub/inner.txt') | Should -Be 'inner'
            (Get-Item -LiteralPath (Join-Path $dest 'out/victim')).LinkType | Should -BeNullOrEmpty -Because 'the link was replaced, not written through'
            Get-Content -LiteralPath (Join-Path $dest 'out/victim') | Should -Be 'replaced'
        }

        It 'into a new name: the renamed copy stays inside its folder too' {
            $area = New-Item -ItemType Directory -Path (Join-Path $FakeRoot 'renamed') -Force
            $canaryBefore = Get-TreeSnapshot $Canary.FullName
            $r = Measure-Call { Copy-SandboxItem -Sandbox $Victim -DockerHost "unix://$FakeSocket" -FromSandbox -Path /workspace/out -Destination (Join-Path $area 'copy') -Recurse }

            $r.Errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Select-Object -Unique | Should -Be 'UnsafeArchiveEntry'
            @(Get-ChildItem -LiteralPath $area -Force -Name) | Should -Be @('copy')
            Get-TreeSnapshot $Canary.FullName | Should -Be $canaryBefore
            Get-LinkOutside (Join-Path $area 'copy') | Should -BeNullOrEmpty
            Get-Content -LiteralPath (Join-Path $area 'copy/safe.txt') | Should -Be 'safe'
        }
    }

    Context 'a fork bomb' {
        BeforeAll {
            $script:Bomb = New-Sandbox -Name (New-TestName 'bomb') -PidsLimit 50
            $script:Bystander = New-Sandbox -Name (New-TestName 'bystander')
        }

        It 'runs into the pids limit of 50 and the command returns' {
            (Get-CgroupPids $Bomb.Id).Max | Should -Be '50'
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $Bomb -Command 'f(){ f|f& };f' -TimeoutSec 30 -PassThru 6>$null }
            $r.Seconds | Should -BeLessThan 32
            $result = $r.Output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] }
            $result.StdErr | Should -Match "can't fork|Resource temporarily unavailable"
        }

        It 'a loop of background sleeps fills the limit and no further' {
            # The fork bomb's last processes take a moment to die on a busy machine; until then they hold pids.
            Wait-Until { (Get-CgroupPids $Bomb.Id).Current -le 5 } -TimeoutSec 20 | Should -BeTrue -Because 'the fork bomb of the previous test must be over'
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $Bomb -TimeoutSec 30 -Command 'i=0; while [ $i -lt 200 ]; do sleep 300 </dev/null >/dev/null 2>&1 & i=$((i+1)); done' 6>$null }
            $r.Seconds | Should -BeLessThan 32
            Wait-Until { (Get-CgroupPids $Bomb.Id).Current -ge 45 } -TimeoutSec 10 | Should -BeTrue
            (Get-CgroupPids $Bomb.Id).Current | Should -BeLessOrEqual 50
        }

        It 'the module stays responsive while the sandbox is at its limit, and Stop-Sandbox removes it' {
            (Get-CgroupPids $Bomb.Id).Current | Should -BeGreaterOrEqual 45 -Because 'the sleeps of the previous test still hold the pids'

            $get = Measure-Call { Get-Sandbox -Name $Bomb.Name }
            $get.Seconds | Should -BeLessThan 5
            $get.Output.State | Should -Be 'running'

            $other = Measure-Call { Invoke-SandboxCommand -Sandbox $Bystander 'echo alive' }
            $other.Seconds | Should -BeLessThan 5
            $other.Output | Should -Be 'alive'

            # A command into the exhausted sandbox may fail to start, but it must answer.
            $inside = Measure-Call { Invoke-SandboxCommand -Sandbox $Bomb 'echo inside' -TimeoutSec 10 6>$null }
            $inside.Seconds | Should -BeLessThan 12

            $stop = Measure-Call { Stop-Sandbox -Sandbox $Bomb }
            $stop.Errors | Should -BeNullOrEmpty
            $stop.Seconds | Should -BeLessThan 10
            Wait-Until { -not (Test-ContainerExists $Bomb.Id) } -TimeoutSec 5 | Should -BeTrue
        }
    }

    Context 'a memory hog' {
        BeforeAll {
            $script:Hog = New-Sandbox -Name (New-TestName 'hog') -Memory 64MB
        }

        It 'is OOM-killed and the result says so: OomKilled, exit code 137, SandboxCommandOutOfMemory' {
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $Hog -Command 'head -c 300m /dev/zero | tail' -PassThru 6>$null }
            $result = @($r.Output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] })
            $result | Should -HaveCount 1
            $result[0].OomKilled | Should -BeTrue
            $result[0].ExitCode | Should -Be 137
            $result[0].Succeeded | Should -BeFalse
            $global:LASTEXITCODE | Should -Be 137
            $r.Errors | Should -HaveCount 1
            $r.Errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxCommandOutOfMemory,*'
            $r.Errors[0].CategoryInfo.Category | Should -Be 'LimitsExceeded'
            $r.Errors[0].Exception.Message | Should -Match '64 ?MB'
        }

        It 'a process killed with SIGKILL for another reason is not reported as out of memory' {
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $Hog -Command 'kill -9 $$' -PassThru }
            $result = @($r.Output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] })
            $result[0].ExitCode | Should -Be 137
            $result[0].OomKilled | Should -BeFalse
            $r.Errors | Should -BeNullOrEmpty
        }

        It 'the sandbox lives on, and a second hog is detected again' {
            Invoke-SandboxCommand -Sandbox $Hog 'echo still here' | Should -Be 'still here'
            $r = Measure-Call { Invoke-SandboxCommand -Sandbox $Hog -Command 'head -c 300m /dev/zero | tail' -PassThru 6>$null }
            @($r.Output | Where-Object { $_ -is [Sandbox.SandboxCommandResult] })[0].OomKilled | Should -BeTrue
            $r.Errors.FullyQualifiedErrorId | Should -BeLike 'SandboxCommandOutOfMemory,*'
        }
    }

    Context 'what a default sandbox can see and do' {
        BeforeAll {
            $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'isolation-code') -Force
            Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo hi'
            $script:Plain = New-Sandbox -Name (New-TestName 'iso')
            $script:Mounted = New-Sandbox -Name (New-TestName 'isopath') -Path $code
        }

        It 'cannot see the engine socket (<Variant>)' -TestCases @(
            @{ Variant = 'no -Path'; Key = 'Plain' }
            @{ Variant = '-Path mounted'; Key = 'Mounted' }
        ) {
            $sb = Get-Variable -Name $Key -ValueOnly
            Invoke-SandboxCommand -Sandbox $sb 'ls /var/run/docker.sock /run/docker.sock 2>/dev/null; echo rc=$?' | Should -Be 'rc=1'
            $found = Invoke-SandboxCommand -Sandbox $sb -Command 'find / \( -path /proc -o -path /sys \) -prune -o \( -name docker.sock -o -name containerd.sock -o -name "*.sock" -o -type s \) -print 2>/dev/null; echo end'
            $found | Should -Be 'end'
            Invoke-SandboxCommand -Sandbox $sb 'grep -c sock /proc/mounts; true' | Should -Be '0'
            Invoke-SandboxCommand -Sandbox $sb 'env | grep -c "^DOCKER_"; true' | Should -Be '0'
        }

        It 'cannot see host processes: only its own, and no engine among them' {
            $procs = Invoke-SandboxCommand -Sandbox $Plain -Command 'for p in /proc/[0-9]*; do echo "${p#/proc/} $(cat $p/comm 2>/dev/null)"; done'
            $procs.Count | Should -BeLessThan 12
            # PID 1 is the deadline guard itself (not the engine's init), one short line in ps.
            $init = Invoke-SandboxCommand -Sandbox $Plain 'tr "\0" " " < /proc/1/cmdline'
            $init | Should -Match '^\S+ -c eval "\$G" sandbox-deadline \d+ [\d.]+ ?$'
            $init.Length | Should -BeLessThan 80
            $procs | Where-Object { $_ -match ' (dockerd|containerd.*|dotnet|pwsh|socat|sshd|systemd|python3)$' } | Should -BeNullOrEmpty
            Invoke-SandboxCommand -Sandbox $Plain 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " | grep -c -e "[d]ockerd" -e "[c]ontainerd"; true' | Should -Be '0'
        }

        It 'has exactly the documented capabilities, in every set that matters' {
            $DocumentedCapabilities | Should -Not -BeNullOrEmpty -Because 'about_Sandbox lists the capabilities a sandbox keeps'
            $DocumentedCapabilities | Should -Be (@('CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE') | Sort-Object)

            $status = Invoke-SandboxCommand -Sandbox $Plain 'cat /proc/self/status'
            ConvertFrom-CapabilityMask (Get-StatusField $status CapEff) | Should -Be $DocumentedCapabilities
            ConvertFrom-CapabilityMask (Get-StatusField $status CapPrm) | Should -Be $DocumentedCapabilities
            ConvertFrom-CapabilityMask (Get-StatusField $status CapBnd) | Should -Be $DocumentedCapabilities
            ConvertFrom-CapabilityMask (Get-StatusField $status CapAmb) | Should -BeNullOrEmpty
            ConvertFrom-CapabilityMask (Get-StatusField $status CapInh) | Should -BeNullOrEmpty
        }

        It 'the sandbox''s main process has the same capabilities' {
            $status = Invoke-SandboxCommand -Sandbox $Plain 'cat /proc/1/status'
            ConvertFrom-CapabilityMask (Get-StatusField $status CapEff) | Should -Be $DocumentedCapabilities
            ConvertFrom-CapabilityMask (Get-StatusField $status CapBnd) | Should -Be $DocumentedCapabilities
        }

        It 'runs with no-new-privileges, unprivileged' {
            $status = Invoke-SandboxCommand -Sandbox $Plain 'cat /proc/self/status'
            Get-StatusField $status NoNewPrivs | Should -Be '1'
            $inspect = Get-ContainerInspect $Plain.Id
            $inspect.HostConfig.Privileged | Should -BeFalse
            $inspect.HostConfig.SecurityOpt | Should -Contain 'no-new-privileges:true'
        }
    }

    Context '-ReadOnly' {
        BeforeAll {
            $script:RoCode = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'ro-code') -Force
            Set-Content -LiteralPath (Join-Path $RoCode 'hello.txt') -Value 'hello'
        }

        It 'the root is read-only, /workspace and /tmp are writable (<Variant>)' -TestCases @(
            @{ Variant = 'no code folder'; Extra = @{} }
            @{ Variant = '-Path'; Extra = @{ Path = '<code>' } }
            @{ Variant = '-Path -CopyPath'; Extra = @{ Path = '<code>'; CopyPath = $true } }
            @{ Variant = '-CopyPath -User 1000:1000'; Extra = @{ Path = '<code>'; CopyPath = $true; User = '1000:1000' } }
        ) {
            $splat = @{}
            foreach ($k in $Extra.Keys) { $splat[$k] = if ($Extra[$k] -is [string] -and $Extra[$k] -eq '<code>') { $RoCode.FullName } else { $Extra[$k] } }
            $sb = New-Sandbox -Name (New-TestName 'ro') -ReadOnly @splat
            $volumes = @((Get-ContainerInspect $sb.Id).Mounts | Where-Object { $_.Type -eq 'volume' -and $_.Destination -eq '/workspace' } | ForEach-Object Name)
            try {
                $lines = Invoke-SandboxCommand -Sandbox $sb -Command (@(
                        'touch /etc/evil 2>&1; echo etc=$?'
                        'touch /evil 2>&1; echo root=$?'
                        'echo w > /workspace/written.txt; echo workspace=$?'
                        'echo t > /tmp/written.txt; echo tmp=$?'
                        'ls /workspace'
                    ) -join '; ') 6>$null
                $lines | Should -Contain 'etc=1'
                $lines | Should -Contain 'root=1'
                $lines | Should -Contain 'workspace=0'
                $lines | Should -Contain 'tmp=0'
                ($lines | Where-Object { $_ -like 'touch: /etc/evil*' }) | Should -Match 'Read-only file system'
                if ($splat.Path) { $lines | Should -Contain 'hello.txt' }
                if ($splat.CopyPath) {
                    if (-not $splat.User) {   # a non-root user editing the copied code: see the -User tests
                        Invoke-SandboxCommand -Sandbox $sb 'echo more >> /workspace/hello.txt && cat /workspace/hello.txt' | Should -Be 'hello', 'more'
                    }
                    Get-Content -LiteralPath (Join-Path $RoCode 'hello.txt') | Should -Be 'hello' -Because '-CopyPath leaves the original alone'
                    Test-Path -LiteralPath (Join-Path $RoCode 'written.txt') | Should -BeFalse
                }
                if ($splat.User) { Invoke-SandboxCommand -Sandbox $sb 'id -u; id -g' | Should -Be '1000', '1000' }
            }
            finally {
                Stop-Sandbox -Sandbox $sb
                # -Path mounts the folder itself: what the sandbox wrote there is the test's to clean.
                if ($splat.Path -and -not $splat.CopyPath) { Remove-Item -LiteralPath (Join-Path $RoCode 'written.txt') -ErrorAction SilentlyContinue }
            }
            foreach ($volume in $volumes) {
                Wait-Until { docker volume inspect $volume *> $null; $LASTEXITCODE -ne 0 } -TimeoutSec 5 | Should -BeTrue -Because "the sandbox's own /workspace volume $volume goes with it"
            }
        }
    }

    Context '-ReadOnly sandbox that ends at its deadline' {
        It 'leaves neither its /workspace volume nor its deadline volume behind' {
            $sb = New-Sandbox -Name (New-TestName 'roexp') -ReadOnly -Timeout 3
            $volumes = @((Get-ContainerInspect $sb.Id).Mounts | Where-Object Type -eq 'volume' | ForEach-Object Name)
            $volumes.Count | Should -Be 2
            Wait-Until { -not (Test-ContainerExists $sb.Id) } -TimeoutSec 10 | Should -BeTrue
            foreach ($volume in $volumes) {
                Wait-Until { docker volume inspect $volume *> $null; $LASTEXITCODE -ne 0 } -TimeoutSec 8 | Should -BeTrue -Because "volume $volume belongs to the expired sandbox"
            }
        }
    }

    Context '-User' {
        BeforeAll {
            $script:Unprivileged = New-Sandbox -Name (New-TestName 'user') -User 1000
        }

        It 'every command runs as uid 1000 by default' {
            Invoke-SandboxCommand -Sandbox $Unprivileged 'id -u' | Should -Be '1000'
            Invoke-SandboxCommand -Sandbox $Unprivileged -ArgumentList 'id', '-u' | Should -Be '1000'
            Invoke-SandboxCommand -Sandbox $Unprivileged 'id -u' -WorkingDirectory /tmp -Environment @{ X = '1' } | Should -Be '1000'
            Invoke-SandboxCommand -Sandbox $Unprivileged 'sh -c "id -u" & wait' | Should -Be '1000'
        }

        It 'the sandbox''s main process runs as uid 1000 too' {
            $uid = Invoke-SandboxCommand -Sandbox $Unprivileged 'grep "^Uid:" /proc/1/status'
            ($uid -split '\s+' | Select-Object -Skip 1) | Select-Object -Unique | Should -Be '1000'
        }

        It 'Invoke-SandboxCommand -User 0 overrides it for one command only' {
            Invoke-SandboxCommand -Sandbox $Unprivileged 'id -u' -User 0 | Should -Be '0'
            Invoke-SandboxCommand -Sandbox $Unprivileged 'id -u' | Should -Be '1000'
        }

        It 'code copied in with -CopyPath can be edited by the sandbox''s user (<Variant>)' -TestCases @(
            @{ Variant = 'writable root'; ReadOnly = $false }
            @{ Variant = '-ReadOnly'; ReadOnly = $true }
        ) {
            $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive "user-code-$ReadOnly") -Force
            Set-Content -LiteralPath (Join-Path $code 'hello.txt') -Value 'hello'
            $null = New-Item -ItemType Directory -Path (Join-Path $code 'src') -Force
            Set-Content -LiteralPath (Join-Path $code 'src/app.sh') -Value 'echo app'
            $sb = New-Sandbox -Name (New-TestName 'usercopy') -User 1000:1000 -Path $code -CopyPath -ReadOnly:$ReadOnly
            try {
                $r = Measure-Call { Invoke-SandboxCommand -Sandbox $sb 'echo more >> /workspace/hello.txt && echo edited > /workspace/src/app.sh && touch /workspace/src/new.sh && cat /workspace/hello.txt' 6>$null }
                $r.Output | Should -Be 'hello', 'more' -Because 'the user the sandbox runs as works on the code it was given'
                Invoke-SandboxCommand -Sandbox $sb 'stat -c %u /workspace/hello.txt /workspace/src' | Select-Object -Unique | Should -Be '1000'
            }
            finally { Stop-Sandbox -Sandbox $sb }
        }

        It 'a non-root user has no effective capabilities and no-new-privileges' {
            $status = Invoke-SandboxCommand -Sandbox $Unprivileged 'cat /proc/self/status'
            ConvertFrom-CapabilityMask (Get-StatusField $status CapEff) | Should -BeNullOrEmpty
            Get-StatusField $status NoNewPrivs | Should -Be '1'
        }
    }
}
