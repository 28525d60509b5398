#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# End-to-end scenarios on the three test endpoints (local socket, ssh:// to the test sshd, tcp:// + TLS), plus the
# security cases of remote engines: host keys, log-in, TLS certificates, plain tcp://, port tunnels, Docker contexts.
# All three endpoints reach the same local dockerd, so the plain `docker` helpers see what any of them made.
#
# The module keeps one SSH connection (and one Docker client) per endpoint per process. A test that needs a fresh SSH
# connection uses an endpoint nothing else used: another spelling of the address, or -SshKeyPath naming a key file
# in a client home of its own (the key path is part of the connection's identity), or a child pwsh.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $endpoints = @(Get-TestEndpoints)
    # tests/setup/Start-TestSshd.sh's servers with one host key each, as many users' servers have.
    $oneKeyServers = @(
        @{ Type = 'rsa'; KeyType = 'ssh-rsa'; Port = 2223 }
        @{ Type = 'ecdsa'; KeyType = 'ecdsa-sha2-nistp256'; Port = 2224 }
        @{ Type = 'ed25519'; KeyType = 'ssh-ed25519'; Port = 2225 }
    )
    $oneKeyConnections = foreach ($server in $oneKeyServers) {
        foreach ($knownHosts in 'OneKeyHashed', 'OneKeyPlain') {
            foreach ($address in '127.0.0.1', 'localhost') { $server + @{ KnownHosts = $knownHosts; Address = $address } }
        }
    }
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'remote'
    Assert-TestEndpoint

    $remote = Get-TestRemoteSetting
    $sshHost = $remote.SshHost
    $tlsHost = $remote.TlsHost
    $localHost = (Get-TestEndpoints -Name Local).DockerHost
    $sshDot = Join-Path $remote.SshHome '.ssh'
    $sshdLog = Join-Path (Split-Path $remote.SshPasswordFile) 'sshd.log'
    $sshdDir = Split-Path $remote.SshPasswordFile
    # A socket nothing listens on: the default engine while a test proves that a sandbox object finds its own.
    $deadHost = 'unix://{0}' -f (Join-Path ([IO.Path]::GetTempPath()) "sbt-no-engine-$PID.sock")

    function New-BinaryFile([string] $Path, [int] $Bytes, [int] $Seed = 7) {
        # Every byte value (NUL, CR, LF, 0xFF, ...) and then random ones.
        $data = [byte[]]::new($Bytes)
        [System.Random]::new($Seed).NextBytes($data)
        for ($i = 0; $i -lt 256 -and $i -lt $Bytes; $i++) { $data[$i] = [byte]$i }
        [System.IO.File]::WriteAllBytes($Path, $data)
        Get-Item -LiteralPath $Path
    }

    function Get-KeyFingerprint([string] $PublicKeyFile) {
        # 'SHA256:...' as ssh-keygen -lf shows it.
        ((ssh-keygen -lf $PublicKeyFile) -split ' ')[1]
    }

    function Get-SshdLogText {
        if (Test-Path -LiteralPath $sshdLog) { [IO.File]::ReadAllText($sshdLog) } else { '' }
    }

    function Get-TlsEnvironment([string] $Kind = 'Client') {
        @{ DOCKER_HOST = $null; DOCKER_CONTEXT = $null; DOCKER_TLS_VERIFY = '1'; DOCKER_CERT_PATH = (Get-TestTlsCertPath -Kind $Kind) }
    }

    function Get-AllEnvironment {
        # HOME/PATH for ssh:// and the good TLS folder for tcp://, no DOCKER_HOST: every -DockerHost works.
        $environment = Get-TlsEnvironment
        (Get-TestSshHomeEnvironment).GetEnumerator() | ForEach-Object { $environment[$_.Key] = $_.Value }
        $environment
    }

    function Reset-KnownEndpoint {
        # A sandbox object leads back to the endpoint last used for its host string in this process (see the
        # 'after a failed' tests); a good call to each remote host puts the usual settings back.
        Use-TestEnvironment (Get-AllEnvironment) {
            $null = Get-Sandbox -DockerHost $sshHost, $tlsHost -Name 'sbt-none-*' -ErrorAction SilentlyContinue
        }
    }

    function Remove-ContainerQuietly([string[]] $Id) {
        $ids = @($Id | Where-Object { $_ })
        if ($ids.Count) { docker rm -f @ids *> $null }
    }

    function Test-ListenerOwnedBy([int] $Port, [int] $ProcessId) {
        # True when the TCP listener on the port belongs to the process (ss shows users:(("name",pid=N,fd=M))).
        $line = ss -Hltnp "sport = :$Port" 2>$null | Out-String
        $line -match "pid=$ProcessId,"
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Remote engines: sandbox life cycle on <Name>' -ForEach $endpoints {
    BeforeAll {
        $endpoint = $_
        $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
        Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo original'
        $sbName = New-TestName ('life-' + $endpoint.Name.ToLowerInvariant())
        $expiringName = New-TestName ('exp-' + $endpoint.Name.ToLowerInvariant())
        $expiredLog = Join-Path $TestDrive 'expired.log'

        $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name $sbName -Path $code.FullName -Timeout 120 -ErrorAction Stop }
        # Made now, checked in the last test: the cleanup engine must remove it (and run -OnKill) on this endpoint.
        $expiring = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name $expiringName -Timeout 4 -OnKill (New-FileHook $expiredLog) -ErrorAction Stop }
        $expiringCreated = Get-ContainerCreated $expiring.Id
    }

    AfterAll {
        Remove-ContainerQuietly $sandbox.Id, $expiring.Id
    }

    It 'makes the sandbox on <Name>: its DockerHost is <DockerHost>' {
        $sandbox | Should -Not -BeNullOrEmpty
        $sandbox.DockerHost | Should -Be $DockerHost
        $sandbox.State | Should -Be 'running'
        (Get-ContainerInspect $sandbox.Id).State.Running | Should -BeTrue
        (Get-ContainerInspect $sandbox.Id).Config.Labels.'io.sandbox.managed' | Should -Be 'true'
    }

    It 'puts the -Path folder at /workspace (remote: a copy; local: a bind mount)' {
        $read = { Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'cat /workspace/main.sh' } }
        & $read | Should -Be 'echo original'

        Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo changed on the host'
        $mount = (Get-ContainerInspect $sandbox.Id).Mounts | Where-Object Destination -EQ '/workspace'
        if ($IsRemote) {
            & $read | Should -Be 'echo original' -Because 'a remote engine gets a copy of the code, made at creation'
            $mount | Should -BeNullOrEmpty -Because 'a remote engine cannot see a local folder'
        }
        else {
            & $read | Should -Be 'echo changed on the host' -Because 'the local engine bind-mounts the folder'
            $mount.Source | Should -Be $code.FullName
        }
    }

    It 'runs a command on <Name>: stdout to the output, stderr to the information stream, the exit code in $LASTEXITCODE' {
        $global:LASTEXITCODE = 0
        $output = Use-TestEndpoint $endpoint {
            $sandbox | Invoke-SandboxCommand 'echo to-stdout; echo to-stderr >&2; exit 7' -InformationVariable info 6>$null
        }
        $output | Should -Be 'to-stdout'
        "$($info.MessageData)" | Should -Be 'to-stderr'
        $LASTEXITCODE | Should -Be 7

        $result = Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand -ArgumentList 'sh', '-c', 'echo "$0-$1"; exit 0', 'a b', 'c' -PassThru }
        $result.ExitCode | Should -Be 0
        $result.StdOut.Trim() | Should -Be 'a b-c'
    }

    It 'feeds piped lines to a command''s stdin on <Name> and ends them with EOF; 2>&1 brings stderr along' {
        $sorted = Use-TestEndpoint $endpoint { 'b', 'c', 'a' | Invoke-SandboxCommand -Sandbox $sandbox 'sort' }
        $sorted | Should -Be 'a', 'b', 'c'
        $count = Use-TestEndpoint $endpoint { 1..200000 | Invoke-SandboxCommand -Sandbox $sandbox 'wc -l' }
        $count.Trim() | Should -Be '200000'
        $all = Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'echo to-stderr >&2' 2>&1 }
        $all | Should -BeOfType ([System.Management.Automation.ErrorRecord])
        "$all" | Should -Be 'to-stderr'
    }

    It 'copies a file and a folder in and out of a sandbox on <Name>, byte for byte' {
        $blob = New-BinaryFile (Join-Path $TestDrive 'blob.bin') (300KB + 17)
        $tree = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'tree/sub') -Force
        $deep = New-BinaryFile (Join-Path $tree 'deep.bin') 4099 -Seed 11
        $out = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'out')

        Use-TestEndpoint $endpoint {
            $sandbox | Invoke-SandboxCommand 'mkdir -p /tmp/xfer'
            $sandbox | Copy-SandboxItem -Path $blob.FullName -Destination /tmp/xfer
            $sandbox | Copy-SandboxItem -Path (Join-Path $TestDrive 'tree') -Destination /tmp/xfer -Recurse
        }
        $inside = Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'sha256sum /tmp/xfer/blob.bin /tmp/xfer/tree/sub/deep.bin' }
        Use-TestEndpoint $endpoint {
            $sandbox | Copy-SandboxItem -Path /tmp/xfer/blob.bin -Destination $out.FullName -FromSandbox
            $sandbox | Copy-SandboxItem -Path /tmp/xfer/tree -Destination $out.FullName -FromSandbox -Recurse
        }

        $hashes = $inside | ForEach-Object { ($_ -split '\s+')[0] }
        $hashes[0] | Should -Be (Get-FileHash -LiteralPath $blob.FullName -Algorithm SHA256).Hash.ToLowerInvariant()
        $hashes[1] | Should -Be (Get-FileHash -LiteralPath $deep.FullName -Algorithm SHA256).Hash.ToLowerInvariant()

        $back = Join-Path $out 'blob.bin'
        (Get-Item -LiteralPath $back).Length | Should -Be $blob.Length
        # (Should -Be on 300 KB of bytes takes half a minute: compare with SequenceEqual.)
        [Linq.Enumerable]::SequenceEqual([IO.File]::ReadAllBytes($back), [IO.File]::ReadAllBytes($blob.FullName)) | Should -BeTrue
        [Linq.Enumerable]::SequenceEqual([IO.File]::ReadAllBytes((Join-Path $out 'tree/sub/deep.bin')), [IO.File]::ReadAllBytes($deep.FullName)) | Should -BeTrue
    }

    It 'lists it with Get-Sandbox -DockerHost <DockerHost>' {
        $found = Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Name $sbName }
        $found | Should -HaveCount 1
        $found.Id | Should -Be $sandbox.Id
        $found.DockerHost | Should -Be $DockerHost
        $found.State | Should -Be 'running'
    }

    It 'sends a sandbox object from <Name> back to its engine without -DockerHost, whatever the default engine is' {
        $small = New-BinaryFile (Join-Path $TestDrive 'small.bin') 1000 -Seed 3
        $environment = $endpoint.Environment.Clone()
        $environment.DOCKER_HOST = $deadHost           # the default engine does not answer
        Use-TestEnvironment $environment {
            { Get-Sandbox -ErrorAction Stop } | Should -Throw -ErrorId 'DockerEndpointUnavailable*' -Because 'the default engine is down here'

            $sandbox | Invoke-SandboxCommand 'echo via-the-object' | Should -Be 'via-the-object'
            $sandbox | Copy-SandboxItem -Path $small.FullName -Destination /tmp
            $sandbox | Invoke-SandboxCommand 'wc -c < /tmp/small.bin' | Should -Be '1000'
            # What Get-Sandbox returns leads back as well.
            $listed = Get-Sandbox -DockerHost $DockerHost -Name $sbName
            $listed | Invoke-SandboxCommand 'echo via-the-list' | Should -Be 'via-the-list'
        }
    }

    It 'Use-Sandbox on <Name> runs the block there and removes the sandbox afterwards' {
        $useName = New-TestName 'use'
        $result = Use-TestEndpoint $endpoint {
            Use-Sandbox -DockerHost $DockerHost -Name $useName -Path $code.FullName -ScriptBlock {
                $_.DockerHost
                $_.Id
                $_ | Invoke-SandboxCommand 'test -f /workspace/main.sh && echo has-code'
            }
        }
        $result | Should -HaveCount 3
        $result[0] | Should -Be $DockerHost
        $result[2] | Should -Be 'has-code'
        Test-ContainerExists $result[1] | Should -BeFalse
        Test-ContainerExists $useName | Should -BeFalse
    }

    It 'the cleanup engine removes an expired sandbox (-Timeout 4) on <Name> and runs its -OnKill hook' {
        # Only the cleanup engine runs -OnKill on expiry (the container's own deadline cannot), and it does so only
        # after it reached the engine the sandbox lives on.
        Wait-Until { Test-Path -LiteralPath $expiredLog } -Deadline $expiringCreated.AddSeconds(12) |
            Should -BeTrue -Because 'the cleanup engine should have removed the expired sandbox and run -OnKill'
        Start-Sleep -Milliseconds 300   # the hook's second line
        Get-Content -LiteralPath $expiredLog | Should -Be "dollar_=$expiringName", "args0=$expiringName"
        ([datetime]::UtcNow - $expiringCreated).TotalSeconds | Should -BeGreaterThan 3.5 -Because 'not before its deadline'
        Wait-Until { -not (Test-ContainerExists $expiring.Id) } -TimeoutSec 3 | Should -BeTrue
    }

    It 'Stop-Sandbox removes the sandbox from <Name>' {
        Use-TestEndpoint $endpoint { $sandbox | Stop-Sandbox -ErrorAction Stop }
        Test-ContainerExists $sandbox.Id | Should -BeFalse
        Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Name $sbName -ErrorAction SilentlyContinue } | Should -BeNullOrEmpty
    }
}

Describe 'Remote engines: a slow consumer and an early stop on <Name>' -ForEach (Get-TestEndpoints -Name Ssh) {
    BeforeAll {
        $endpoint = $_
        $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName 'slow-ssh') -Timeout 300 -ErrorAction Stop }
    }

    AfterAll {
        Remove-ContainerQuietly $sandbox.Id
    }

    It 'gives a slow consumer every line, in order, over <Name>' {
        $count = 0
        $lines = Use-TestEndpoint $endpoint {
            $sandbox | Invoke-SandboxCommand 'seq 1 20000' | ForEach-Object { $count++; if ($count % 2000 -eq 0) { Start-Sleep -Milliseconds 700 }; $_ }
        }
        $lines | Should -HaveCount 20000
        $lines -join ',' | Should -BeExactly ((1..20000) -join ',')
    }

    It 'gets the last line after one long pause mid-stream over <Name>' {
        $count = 0
        $lines = Use-TestEndpoint $endpoint {
            $sandbox | Invoke-SandboxCommand 'sleep 1; seq 1 50000; echo END' | ForEach-Object { $count++; if ($count -eq 5000) { Start-Sleep -Seconds 4 }; $_ }
        }
        $lines | Should -HaveCount 50001
        $lines[-1] | Should -Be 'END'
    }

    It 'kills the command inside when Select-Object -First 1 stops the pipeline over <Name>' {
        Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'yes yes-ssh-44' | Select-Object -First 1 } | Should -Be 'yes-ssh-44'
        $running = { @(docker exec $sandbox.Id ps -o args | Where-Object { $_ -match 'yes-ssh-44' }) }
        Wait-Until -TimeoutSec 10 { (& $running).Count -eq 0 } | Should -BeTrue -Because "yes must not run on inside: $(& $running)"
    }
}

Describe 'Remote engines: a paused consumer holds the engine back on <Name>' -ForEach (Get-TestEndpoints) {
    BeforeAll {
        $endpoint = $_
        $sandbox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName 'backpressure') -Timeout 300 -ErrorAction Stop }
    }

    AfterAll {
        Remove-ContainerQuietly $sandbox.Id
    }

    It 'buffers a bounded amount, not the 100 MB the command writes while the consumer waits, and still delivers every line over <Name>' {
        $count = 0
        $growthMB = $null
        Use-TestEndpoint $endpoint {
            [GC]::Collect()
            $before = [GC]::GetTotalMemory($true)
            $sandbox | Invoke-SandboxCommand "head -c 100000000 /dev/zero | tr '\0' y | fold -w 1000" | ForEach-Object {
                $count++
                if ($count -eq 10) {
                    # Long enough for an engine that is not held back to push all 100 MB into this process.
                    Start-Sleep -Seconds 5
                    $growthMB = ([GC]::GetTotalMemory($true) - $before) / 1MB
                }
            }
        }
        $count | Should -Be 100000
        Write-Host ('    {0}: memory grew by {1:0.0} MB during the pause' -f $endpoint.Name, $growthMB)
        $growthMB | Should -BeLessThan 40 -Because 'a slow consumer must hold the engine back (bounded queues), not buffer its output'
    }
}

Describe 'Remote engines: across engines' {
    BeforeAll {
        $made = @{}
        Use-TestEnvironment (Get-AllEnvironment) {
            foreach ($h in $localHost, $sshHost, $tlsHost) {
                $made[$h] = New-Sandbox -DockerHost $h -Name (New-TestName 'across') -ErrorAction Stop
            }
        }
    }

    AfterAll {
        Remove-ContainerQuietly @($made.Values | ForEach-Object Id)
    }

    It 'Get-Sandbox -DockerHost $local,$ssh,$tls | Stop-Sandbox stops them all, each through its own engine' {
        $prefix = Get-TestPrefix
        $environment = Get-AllEnvironment
        $found = Use-TestEnvironment $environment { Get-Sandbox -DockerHost $localHost, $sshHost, $tlsHost -Name "$prefix-across-*" }
        # The three endpoints are one dockerd: each engine lists all three sandboxes, under its own address.
        $found | Should -HaveCount 9
        @($found.DockerHost | Sort-Object -Unique) | Should -Be @($localHost, $sshHost, $tlsHost | Sort-Object)
        foreach ($h in $made.Keys) {
            @($found | Where-Object DockerHost -EQ $h | ForEach-Object Id | Sort-Object) |
                Should -Be @($made.Values | ForEach-Object Id | Sort-Object)
        }

        $environment.DOCKER_HOST = $deadHost     # the default engine is down: only the objects' endpoints can work
        $stopOutput = Use-TestEnvironment $environment { $found | Stop-Sandbox -ErrorAction Continue 2>&1 }
        @($stopOutput | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) | Should -HaveCount 0
        foreach ($sandbox in $made.Values) { Test-ContainerExists $sandbox.Id | Should -BeFalse }
    }
}

Describe 'Remote engines: ports published over ssh:// are tunnelled to the client' {
    It 'reaches httpd in the sandbox at $sandbox.Ports[0].Url (http://localhost:LocalPort), and closes the tunnel with the sandbox' {
        $web = Use-TestEndpoint Ssh { New-Sandbox -DockerHost $sshHost -Name (New-TestName 'web') -Port 8080 -ErrorAction Stop }
        try {
            $web.Ports | Should -HaveCount 1
            $port = $web.Ports[0]
            $port.ContainerPort | Should -Be 8080
            $port.HostIp | Should -Be '127.0.0.1' -Because 'published on the remote host''s loopback only'
            $port.LocalPort | Should -BeGreaterThan 0
            $port.Url | Should -Be "http://localhost:$($port.LocalPort)"
            Test-ListenerOwnedBy $port.LocalPort $PID | Should -BeTrue -Because 'the local end is the SSH tunnel in this process, not the engine''s port'

            Use-TestEndpoint Ssh {
                $web | Invoke-SandboxCommand 'mkdir -p /workspace && echo tunnelled-page > /workspace/index.html'
                $web | Invoke-SandboxCommand 'httpd -p 8080 -h /workspace &'
            }
            $response = Invoke-WebRequestWithRetry -Uri $port.Url -TimeoutSec 10
            $response.StatusCode | Should -Be 200
            (ConvertTo-Text $response.Content).Trim() | Should -Be 'tunnelled-page'

            # Get-Sandbox shows the same local end.
            $listed = Use-TestEndpoint Ssh { Get-Sandbox -DockerHost $sshHost -Name $web.Name }
            $listed.Ports[0].LocalPort | Should -Be $port.LocalPort
            $listed.Ports[0].Url | Should -Be $port.Url

            Use-TestEndpoint Ssh { $web | Stop-Sandbox -ErrorAction Stop }
            Wait-Until { -not (Test-TcpPort 127.0.0.1 $port.LocalPort) } -TimeoutSec 3 |
                Should -BeTrue -Because 'the tunnel must close with the sandbox'
            { Invoke-WebRequest -Uri $port.Url -TimeoutSec 2 -UseBasicParsing } | Should -Throw
        }
        finally { Remove-ContainerQuietly $web.Id }
    }
}

Describe 'Remote engines: Docker contexts from the config folder' {
    BeforeAll {
        $config = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'docker-config')
        function Add-TestContext([string] $Name, [string] $DockerHost, [switch] $WithTls) {
            $id = -join ([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($Name)) | ForEach-Object { $_.ToString('x2') })
            $meta = New-Item -ItemType Directory -Force -Path (Join-Path $config "contexts/meta/$id")
            @{ Name = $Name; Metadata = @{}; Endpoints = @{ docker = @{ Host = $DockerHost; SkipTLSVerify = $false } } } |
                ConvertTo-Json -Depth 5 | Set-Content -LiteralPath (Join-Path $meta 'meta.json')
            if ($WithTls) {
                $tlsFolder = New-Item -ItemType Directory -Force -Path (Join-Path $config "contexts/tls/$id/docker")
                foreach ($f in 'ca.pem', 'cert.pem', 'key.pem') { Copy-Item -LiteralPath (Join-Path (Get-TestTlsCertPath) $f) -Destination $tlsFolder }
            }
        }
        Add-TestContext 'tlsctx' $tlsHost -WithTls
        Add-TestContext 'sshctx' $sshHost
        Set-Content -LiteralPath (Join-Path $config 'config.json') -Value '{"auths":{},"currentContext":"tlsctx"}'

        # Nothing but the config folder says where the engine is (HOME is the ssh test home, for sshctx).
        $contextEnvironment = @{ DOCKER_CONFIG = $config.FullName; DOCKER_HOST = $null; DOCKER_CONTEXT = $null; DOCKER_TLS_VERIFY = $null; DOCKER_CERT_PATH = $null }
        (Get-TestSshHomeEnvironment).GetEnumerator() | ForEach-Object { $contextEnvironment[$_.Key] = $_.Value }
        $made = [Collections.Generic.List[string]]::new()
    }

    AfterAll {
        Remove-ContainerQuietly $made
    }

    It 'uses the current context of config.json (tcp:// with the context''s TLS files) when DOCKER_HOST is unset' {
        $ctxName = New-TestName 'ctx-tls'
        Use-TestEnvironment $contextEnvironment {
            $sb = New-Sandbox -Name $ctxName -ErrorAction Stop
            $made.Add($sb.Id)
            $sb.DockerHost | Should -Be 'tcp://127.0.0.1:2376'
            $sb | Invoke-SandboxCommand 'echo from-context' | Should -Be 'from-context'
            $found = Get-Sandbox -Name $ctxName
            $found.Id | Should -Be $sb.Id
            $found.DockerHost | Should -Be 'tcp://127.0.0.1:2376'
            $sb | Stop-Sandbox -ErrorAction Stop
        }
        Test-ContainerExists $ctxName | Should -BeFalse
    }

    It 'DOCKER_CONTEXT names the context instead of config.json: an ssh:// context' {
        $ctxName = New-TestName 'ctx-ssh'
        $environment = $contextEnvironment.Clone()
        $environment.DOCKER_CONTEXT = 'sshctx'
        Use-TestEnvironment $environment {
            $sb = New-Sandbox -Name $ctxName -ErrorAction Stop
            $made.Add($sb.Id)
            $sb.DockerHost | Should -Be $sshHost
            $sb | Invoke-SandboxCommand 'echo over-ssh' | Should -Be 'over-ssh'
            (Get-Sandbox -Name $ctxName).DockerHost | Should -Be $sshHost
            $sb | Stop-Sandbox -ErrorAction Stop
        }
        Test-ContainerExists $ctxName | Should -BeFalse
    }

    It 'DOCKER_CONTEXT=tlsctx works with a config.json that names no context' {
        $ctxName = New-TestName 'ctx-var'
        $bare = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'bare-config')
        Copy-Item -LiteralPath (Join-Path $config 'contexts') -Destination $bare -Recurse
        Set-Content -LiteralPath (Join-Path $bare 'config.json') -Value '{"auths":{}}'
        $environment = $contextEnvironment.Clone()
        $environment.DOCKER_CONFIG = $bare.FullName
        $environment.DOCKER_CONTEXT = 'tlsctx'
        Use-TestEnvironment $environment {
            $sb = New-Sandbox -Name $ctxName -ErrorAction Stop
            $made.Add($sb.Id)
            $sb.DockerHost | Should -Be 'tcp://127.0.0.1:2376'
            $sb | Stop-Sandbox -ErrorAction Stop
        }
    }

    It 'DOCKER_HOST wins over the context' {
        $ctxName = New-TestName 'ctx-host'
        $environment = $contextEnvironment.Clone()
        $environment.DOCKER_HOST = $localHost
        Use-TestEnvironment $environment {
            $sb = New-Sandbox -Name $ctxName -ErrorAction Stop
            $made.Add($sb.Id)
            $sb.DockerHost | Should -Be $localHost
            $sb | Stop-Sandbox -ErrorAction Stop
        }
    }

    It 'a context that does not exist is DockerContextNotFound' {
        $environment = $contextEnvironment.Clone()
        $environment.DOCKER_CONTEXT = 'no-such-context'
        $err = Use-TestEnvironment $environment { { Get-Sandbox -ErrorAction Stop } | Should -Throw -ErrorId 'DockerContextNotFound*' -PassThru }
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }
}

Describe 'Remote engines: tcp:// with TLS refuses what it cannot trust' {
    BeforeAll {
        $tlsSandbox = Use-TestEnvironment (Get-TlsEnvironment) { New-Sandbox -DockerHost $tlsHost -Name (New-TestName 'tls') -ErrorAction Stop }
    }

    AfterAll {
        Reset-KnownEndpoint
        Remove-ContainerQuietly $tlsSandbox.Id
    }

    It 'refuses an engine whose certificate does not chain to ca.pem: TlsHandshakeFailed, SecurityError' {
        try {
            $err = Use-TestEnvironment (Get-TlsEnvironment WrongCa) {
                { Get-Sandbox -DockerHost $tlsHost -ErrorAction Stop } | Should -Throw -ErrorId 'TlsHandshakeFailed*' -PassThru
            }
            $err.CategoryInfo.Category | Should -Be 'SecurityError'
            $err.Exception.Message | Should -BeLike '*does not chain to the CA*'
            $err.Exception.Message | Should -BeLike "*$(Get-TestTlsCertPath WrongCa)*"
        }
        finally { Reset-KnownEndpoint }
    }

    It 'refuses a certificate that does not name the host dialled (tcp://127.0.0.2:2376 with the good files)' {
        $wrongName = $remote.TlsWrongNameHost
        $err = Use-TestEnvironment (Get-TlsEnvironment Client) {
            { Get-Sandbox -DockerHost $wrongName -ErrorAction Stop } | Should -Throw -ErrorId 'TlsHandshakeFailed*' -PassThru
        }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -BeLike "*not issued for '127.0.0.2'*"
    }

    It 'reports TlsHandshakeFailed when the engine refuses the client certificate' {
        try {
            $err = Use-TestEnvironment (Get-TlsEnvironment UntrustedClient) {
                { Get-Sandbox -DockerHost $tlsHost -ErrorAction Stop } | Should -Throw -ErrorId 'TlsHandshakeFailed*' -PassThru
            }
            $err.CategoryInfo.Category | Should -Be 'SecurityError'
            $err.Exception.Message | Should -BeLike '*client certificate*'
        }
        finally { Reset-KnownEndpoint }
    }

    It 'a TLS sandbox object still reaches its engine after a failed connection to the same host with other TLS files' {
        # Regression: the endpoint of a host string was remembered before connecting, so one failed call with
        # other settings sent every later `$sandbox | ...` of that host to the failing endpoint.
        try {
            Use-TestEnvironment (Get-TlsEnvironment WrongCa) { Get-Sandbox -DockerHost $tlsHost -ErrorAction SilentlyContinue } | Out-Null
            Use-TestEnvironment (Get-TlsEnvironment Client) {
                $tlsSandbox | Invoke-SandboxCommand 'echo still-reachable' -ErrorAction Stop | Should -Be 'still-reachable'
            }
        }
        finally { Reset-KnownEndpoint }
    }

    It 'refuses plain tcp:// to a host that is not loopback (InsecureDockerHost) without connecting to it' {
        $address = [System.Net.NetworkInformation.NetworkInterface]::GetAllNetworkInterfaces() |
            Where-Object OperationalStatus -EQ 'Up' |
            ForEach-Object { $_.GetIPProperties().UnicastAddresses.Address } |
            Where-Object { $_.AddressFamily -eq 'InterNetwork' -and -not [System.Net.IPAddress]::IsLoopback($_) } |
            Select-Object -First 1
        $address | Should -Not -BeNullOrEmpty -Because 'the test listens on a non-loopback address of this machine'
        $listener = [System.Net.Sockets.TcpListener]::new($address, 0)
        $listener.Start()
        try {
            $target = 'tcp://{0}:{1}' -f $address, $listener.LocalEndpoint.Port
            $plain = @{ DOCKER_HOST = $null; DOCKER_CONTEXT = $null; DOCKER_TLS_VERIFY = $null; DOCKER_CERT_PATH = $null }
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $err = Use-TestEnvironment $plain {
                { Get-Sandbox -DockerHost $target -ErrorAction Stop } | Should -Throw -ErrorId 'InsecureDockerHost*' -PassThru
            }
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 2
            $err.CategoryInfo.Category | Should -Be 'SecurityError'
            $err.ErrorDetails.RecommendedAction | Should -BeLike '*DOCKER_CERT_PATH*'

            $plain.DOCKER_HOST = $target     # the same from DOCKER_HOST
            Use-TestEnvironment $plain { { New-Sandbox -Name (New-TestName 'plain') -ErrorAction Stop } | Should -Throw -ErrorId 'InsecureDockerHost*' }
            Start-Sleep -Milliseconds 200
            $listener.Pending() | Should -BeFalse -Because 'nothing may be sent to an engine reached without TLS'
        }
        finally { $listener.Stop() }
    }
}

Describe 'Remote engines: ssh:// host keys and log-in' {
    BeforeAll {
        $sshSandbox = Use-TestEndpoint Ssh { New-Sandbox -DockerHost $sshHost -Name (New-TestName 'ssh') -ErrorAction Stop }
        $hostKeyFingerprints = Get-ChildItem -LiteralPath $sshdDir -Filter 'ssh_host_*_key.pub' | ForEach-Object { Get-KeyFingerprint $_.FullName }
    }

    AfterAll {
        Reset-KnownEndpoint
        Remove-ContainerQuietly $sshSandbox.Id
    }

    It 'refuses an unknown host key: SshHostKeyNotTrusted with the SHA256 fingerprint and an ssh-keyscan hint' {
        $home_ = New-TestSshHome -Path (Join-Path $TestDrive 'unknown') -KnownHosts None
        $err = Use-TestSshHome -Path $home_ {
            { Get-Sandbox -DockerHost $sshHost -SshKeyPath (Join-Path $home_ '.ssh/id_ed25519') -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshHostKeyNotTrusted*' -PassThru
        }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -Match 'SHA256:[A-Za-z0-9+/]{43}(?![A-Za-z0-9+/=])'
        $shown = [regex]::Match($err.Exception.Message, 'SHA256:[A-Za-z0-9+/]{43}').Value
        $hostKeyFingerprints | Should -Contain $shown -Because 'the fingerprint shown must be the server''s, as ssh-keygen -lf shows it'
        $err.Exception.Message | Should -Match ([regex]::Escape('[127.0.0.1]:2222'))
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*ssh-keyscan -p 2222 *127.0.0.1*known_hosts*'
    }

    It 'refuses a changed host key (other keys listed for the host): SshHostKeyNotTrusted' {
        $home_ = New-TestSshHome -Path (Join-Path $TestDrive 'changed') -KnownHosts Wrong
        $err = Use-TestSshHome -Path $home_ {
            { Get-Sandbox -DockerHost $sshHost -SshKeyPath (Join-Path $home_ '.ssh/id_ed25519') -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshHostKeyNotTrusted*' -PassThru
        }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -BeLike '*CHANGED*'
        $hostKeyFingerprints | Should -Contain ([regex]::Match($err.Exception.Message, 'SHA256:[A-Za-z0-9+/]{43}').Value)
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*ssh-keygen -R*'
    }

    It 'logs in with the <_> key given by -SshKeyPath (and a hashed known_hosts)' -ForEach 'ed25519', 'ecdsa', 'rsa' {
        # HOME is the test ssh home, whose known_hosts is hashed; the key path makes each a new connection.
        (Get-Content -LiteralPath (Join-Path $sshDot 'known_hosts') -TotalCount 1) | Should -BeLike '|1|*'
        $key = Join-Path $sshDot "id_$_"
        $fingerprint = Get-KeyFingerprint "$key.pub"
        $before = (Get-SshdLogText).Length
        $found = Use-TestEndpoint Ssh { Get-Sandbox -DockerHost $sshHost -Name $sshSandbox.Name -SshKeyPath $key -ErrorAction Stop }
        $found.Id | Should -Be $sshSandbox.Id
        (Get-SshdLogText).Substring($before) | Should -Match ("Accepted publickey for root from \S+ port \d+ ssh2: \S+ " + [regex]::Escape($fingerprint))
    }

    It 'accepts a plain known_hosts file and finds id_rsa in ~/.ssh when it is the only key (ssh://root@localhost:2222)' {
        # A spelling nothing else in this process uses, so the connection is a new one and reads this home.
        $home_ = New-TestSshHome -Path (Join-Path $TestDrive 'plain-rsa') -KnownHosts Plain -Key rsa
        (Get-Content -LiteralPath (Join-Path $home_ '.ssh/known_hosts') -TotalCount 1) | Should -BeLike '`[*'
        $fingerprint = Get-KeyFingerprint (Join-Path $home_ '.ssh/id_rsa.pub')
        $before = (Get-SshdLogText).Length
        $found = Use-TestSshHome -Path $home_ { Get-Sandbox -DockerHost 'ssh://root@localhost:2222' -Name $sshSandbox.Name -ErrorAction Stop }
        $found.Id | Should -Be $sshSandbox.Id
        $found.DockerHost | Should -Be 'ssh://root@localhost:2222'
        (Get-SshdLogText).Substring($before) | Should -Match ("Accepted publickey for root from \S+ port \d+ ssh2: RSA " + [regex]::Escape($fingerprint))
    }

    It 'refuses a key the server does not know: SshAuthenticationFailed, PermissionDenied' {
        try {
            $err = Use-TestEndpoint Ssh {
                { Get-Sandbox -DockerHost $sshHost -SshKeyPath (Join-Path $sshDot 'bad_ed25519') -ErrorAction Stop } |
                    Should -Throw -ErrorId 'SshAuthenticationFailed*' -PassThru
            }
            $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err.Exception.Message | Should -BeLike '*root@127.0.0.1:2222*'
        }
        finally { Reset-KnownEndpoint }
    }

    It 'an ssh:// sandbox object still reaches its engine after a failed log-in to the same host with another key' {
        # Regression: see the TLS test of the same name.
        try {
            Use-TestEndpoint Ssh { Get-Sandbox -DockerHost $sshHost -SshKeyPath (Join-Path $sshDot 'bad_ed25519') -ErrorAction SilentlyContinue } | Out-Null
            Use-TestEndpoint Ssh { $sshSandbox | Invoke-SandboxCommand 'echo still-reachable' -ErrorAction Stop } | Should -Be 'still-reachable'
        }
        finally { Reset-KnownEndpoint }
    }

    It 'logs in with a password (-Credential) and refuses a wrong one with SshAuthenticationFailed' {
        # A home without any id_* key: only the password can log in.
        $home_ = New-TestSshHome -Path (Join-Path $TestDrive 'password') -Key @()
        Get-ChildItem -LiteralPath (Join-Path $home_ '.ssh') -Filter 'id_*' | Should -BeNullOrEmpty
        $before = (Get-SshdLogText).Length
        $found = Use-TestSshHome -Path $home_ {
            Get-Sandbox -DockerHost $remote.SshUserHost -Credential (Get-TestSshCredential) -Name $sshSandbox.Name -ErrorAction Stop
        }
        $found.Id | Should -Be $sshSandbox.Id
        (Get-SshdLogText).Substring($before) | Should -Match "Accepted password for $($remote.SshUser) from"

        # Another spelling (the user comes from -Credential), so that the good connection above is not reused.
        $err = Use-TestSshHome -Path $home_ {
            { Get-Sandbox -DockerHost 'ssh://127.0.0.1:2222' -Credential (Get-TestSshCredential -Wrong) -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshAuthenticationFailed*' -PassThru
        }
        $err.CategoryInfo.Category | Should -Be 'PermissionDenied'
        $err.Exception.Message | Should -BeLike "*$($remote.SshUser)@127.0.0.1:2222*"
    }

    It 'reports DockerEndpointUnavailable at once when no sshd answers' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $err = Use-TestEndpoint Ssh {
            { Get-Sandbox -DockerHost 'ssh://root@127.0.0.1:2299' -ErrorAction Stop } | Should -Throw -ErrorId 'DockerEndpointUnavailable*' -PassThru
        }
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
        $err.CategoryInfo.Category | Should -Be 'ConnectionError'
        $err.Exception.Message | Should -BeLike '*127.0.0.1:2299*'
    }

    It 'in a fresh process: refuses an unknown host with the default keys and makes nothing, then a bad key, then works once known_hosts has the key' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'child')
        $unknown = New-TestSshHome -Path (Join-Path $work 'unknown') -KnownHosts None
        $badKey = New-TestSshHome -Path (Join-Path $work 'badkey') -Key bad
        $good = New-TestSshHome -Path (Join-Path $work 'good')
        $childName = New-TestName 'child'
        $report = Join-Path $work 'report.json'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
Import-Module `$env:SANDBOX_MODULE_PATH
`$env:DOCKER_HOST = `$null; `$env:DOCKER_CONTEXT = `$null
`$report = [ordered]@{}
function Try-New([string] `$label, [string] `$homeFolder) {
    `$env:HOME = `$homeFolder
    try { `$sb = New-Sandbox -DockerHost '$sshHost' -Name '$childName' -Timeout 60 -ErrorAction Stop; `$report[`$label] = 'ok:' + `$sb.DockerHost }
    catch { `$report[`$label] = `$_.FullyQualifiedErrorId + '|' + `$_.Exception.Message }
}
Try-New unknown '$unknown'
`$report.exists = [bool](docker ps -aq --filter 'name=^$childName$')
Try-New badkey '$badKey'
Try-New good '$good'
`$report | ConvertTo-Json | Set-Content -LiteralPath '$report'
"@
        try {
            $child.WaitForExit(60000) | Should -BeTrue -Because "the child should finish: $(Get-ChildOutput $work)"
            Test-Path -LiteralPath $report | Should -BeTrue -Because (Get-ChildOutput $work)
            $r = Get-Content -Raw -LiteralPath $report | ConvertFrom-Json
            $r.unknown | Should -BeLike 'SshHostKeyNotTrusted*SHA256:*'
            $r.exists | Should -BeFalse -Because 'a refused New-Sandbox leaves no container'
            $r.badkey | Should -BeLike 'SshAuthenticationFailed*'
            $r.good | Should -Be "ok:$sshHost"
            Test-ContainerExists $childName | Should -BeTrue
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            Remove-ContainerQuietly $childName
        }
    }
}

Describe 'Remote engines: ssh:// servers with one host key (RSA, ECDSA or Ed25519 only)' {
    BeforeAll {
        foreach ($port in 2223, 2224, 2225) {
            if (-not (Test-TcpPort 127.0.0.1 $port)) { throw "No one-key test sshd listens on 127.0.0.1:$port. Run ./build.sh Test, which starts it (tests/setup/Start-TestSshd.sh)." }
        }
        $target = New-Sandbox -DockerHost $localHost -Name (New-TestName 'onekey') -ErrorAction Stop

        function Get-ServedKeyType([int] $Port) {
            @(ssh-keyscan -T 5 -p $Port 127.0.0.1 2>$null | Where-Object { $_ -notlike '#*' } | ForEach-Object { ($_ -split ' ')[1] })
        }
        function New-OneKeyHome([string] $Name, [string] $KnownHosts) {
            # Its own key path makes each test a new SSH connection, which reads this home's known_hosts.
            $home_ = New-TestSshHome -Path (Join-Path $TestDrive $Name) -KnownHosts $KnownHosts -Key ed25519
            @{ Home = $home_; Key = Join-Path $home_ '.ssh/id_ed25519' }
        }
    }

    AfterAll {
        Remove-ContainerQuietly $target.Id
    }

    It 'connects to the <Type>-only sshd (ssh://root@<Address>:<Port>) with its key in a <KnownHosts> known_hosts' -ForEach $oneKeyConnections {
        Get-ServedKeyType $Port | Should -Be $KeyType -Because "the server on port $Port must offer its $Type host key and no other"
        $client = New-OneKeyHome "$Type-$KnownHosts-$Address" $KnownHosts
        $firstLine = Get-Content -LiteralPath (Join-Path $client.Home '.ssh/known_hosts') -TotalCount 1
        if ($KnownHosts -eq 'OneKeyHashed') { $firstLine | Should -BeLike '|1|*' } else { $firstLine | Should -BeLike '`[127.0.0.1`]:2223 ssh-rsa *' }

        $found = Use-TestSshHome -Path $client.Home {
            Get-Sandbox -DockerHost "ssh://root@${Address}:$Port" -Name $target.Name -SshKeyPath $client.Key -ErrorAction Stop
        }
        $found.Id | Should -Be $target.Id
    }

    It 'refuses the <Type>-only sshd when known_hosts lacks its key: SshHostKeyNotTrusted naming <KeyType> and its fingerprint' -ForEach $oneKeyServers {
        $client = New-OneKeyHome "$Type-unknown" None
        $err = Use-TestSshHome -Path $client.Home {
            { Get-Sandbox -DockerHost "ssh://root@127.0.0.1:$Port" -SshKeyPath $client.Key -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshHostKeyNotTrusted*' -PassThru
        }
        $fingerprint = Get-KeyFingerprint (Join-Path $sshdDir "ssh_host_${Type}_key.pub")
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.Exception.Message | Should -BeLike "*``[127.0.0.1``]:$Port is not in *known_hosts: $KeyType $fingerprint.*"
        $err.ErrorDetails.RecommendedAction | Should -BeLike "*ssh-keyscan -p $Port -t $Type 127.0.0.1 >> *known_hosts*"
    }

    It 'refuses the <Type>-only sshd when known_hosts lists another <KeyType> key for it: the host key has CHANGED' -ForEach $oneKeyServers {
        $client = New-OneKeyHome "$Type-changed" OneKeyWrong
        $err = Use-TestSshHome -Path $client.Home {
            { Get-Sandbox -DockerHost "ssh://root@127.0.0.1:$Port" -SshKeyPath $client.Key -ErrorAction Stop } |
                Should -Throw -ErrorId 'SshHostKeyNotTrusted*' -PassThru
        }
        $fingerprint = Get-KeyFingerprint (Join-Path $sshdDir "ssh_host_${Type}_key.pub")
        $err.Exception.Message | Should -BeLike "*HAS CHANGED: it is now $KeyType $fingerprint,*"
        $err.ErrorDetails.RecommendedAction | Should -BeLike '*ssh-keygen -R*'
    }
}
