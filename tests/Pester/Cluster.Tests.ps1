#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# The cmdlets on a real 3-node Docker Swarm (tests/setup/Start-TestSwarm.sh: three dockerd in network namespaces, the
# manager at $env:SANDBOX_TEST_SWARM_MANAGER, TLS with the test CA): placement by capacity, work on each node through its
# own engine, sessions, deadlines (also against hostile code), capacity refusals, listing and stopping across the cluster,
# a warm pool, the default cluster and the node map, the errors of a wrong target, and a worker node killed mid-run (last:
# the others need three nodes). What ran where is checked with the docker CLI on each node's unix socket
# (/run/sandbox-swarm/<node>/docker.sock), not through the module.
# Without SANDBOX_TEST_SWARM_MANAGER the file is skipped, except under CI, where the swarm must be there.

BeforeDiscovery {
    $SwarmMissing = -not $env:SANDBOX_TEST_SWARM_MANAGER -and $env:CI -ne 'true'
    if ($SwarmMissing) {
        Write-Host '  Cluster tests skipped: SANDBOX_TEST_SWARM_MANAGER is not set (./build.sh Test starts the test swarm and sets it; or run tests/setup/Start-TestSwarm.sh and set SANDBOX_TEST_SWARM_*).'
    }
    $NodeNames = if ($env:SANDBOX_TEST_SWARM_NODES) { @($env:SANDBOX_TEST_SWARM_NODES -split ',') } else { @('sandbox-node1', 'sandbox-node2', 'sandbox-node3') }
    $EachNode = @($NodeNames | ForEach-Object { @{ Node = $_ } })
}

Describe 'Cluster' -Skip:$SwarmMissing {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Initialize-SandboxTest -Area 'cluster'
        if (-not $env:SANDBOX_TEST_SWARM_MANAGER) {
            throw 'CI is true but SANDBOX_TEST_SWARM_MANAGER is not set: build.ps1 TestSwarm must start the test swarm before the cluster tests.'
        }

        $manager = $env:SANDBOX_TEST_SWARM_MANAGER
        $nodeNames = @(if ($env:SANDBOX_TEST_SWARM_NODES) { $env:SANDBOX_TEST_SWARM_NODES -split ',' } else { 'sandbox-node1', 'sandbox-node2', 'sandbox-node3' })
        $swarmScript = $env:SANDBOX_TEST_SWARM_SCRIPT
        $certPath = if ($env:SANDBOX_TEST_SWARM_CERT_PATH) { $env:SANDBOX_TEST_SWARM_CERT_PATH } else { Get-TestTlsCertPath -Kind Client }
        $prefix = Get-TestPrefix

        function Get-NodeSocket([string] $Node) {
            # sandbox-node2 or node2 -> unix:///run/sandbox-swarm/node2/docker.sock
            'unix:///run/sandbox-swarm/{0}/docker.sock' -f ($Node -replace '^sandbox-', '')
        }

        function Invoke-NodeDocker {
            # The docker CLI on a node's own unix socket, without this file's TLS variables (the CLI refuses a unix socket with them):
            #   Invoke-NodeDocker node2 ps -a    (no param block: -a and the like go to docker, not to PowerShell)
            $node, $arguments = $args
            env -u DOCKER_HOST -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH -u DOCKER_CONTEXT docker -H (Get-NodeSocket $node) @arguments
        }

        function Test-ServiceExists([string] $NameOrId) {
            Invoke-NodeDocker node1 service inspect --format '{{.ID}}' $NameOrId *> $null
            $LASTEXITCODE -eq 0
        }

        function Get-TestService {
            # This run's services on the swarm (module-labelled, named with the prefix or owned by this process): Id, Name, Labels.
            # -AnyRun: also those an earlier run of this file left (its names and pool names start with sbt-cluster-).
            param([switch] $AnyRun)
            $ids = @(Invoke-NodeDocker node1 service ls -q --filter label=io.sandbox.managed=true 2>$null | Where-Object { $_ })
            if (-not $ids.Count) { return }
            foreach ($line in (Invoke-NodeDocker node1 service inspect --format '{{.ID}}|{{.Spec.Name}}|{{json .Spec.Labels}}' @ids 2>$null)) {
                if (-not $line) { continue }
                $id, $name, $json = $line -split '\|', 3
                $labels = $json | ConvertFrom-Json
                $owner = $labels.PSObject.Properties['io.sandbox.owner']
                $pool = $labels.PSObject.Properties['io.sandbox.pool']
                $earlier = $AnyRun -and ($name -like 'sbt-cluster-*' -or ($pool -and $pool.Value -like 'sbt-cluster-*'))
                if ($name -like "$prefix*" -or ($owner -and $owner.Value -like "*:$PID") -or $earlier) { [pscustomobject]@{ Id = $id; Name = $name; Labels = $labels } }
            }
        }

        function Remove-ClusterTestService {
            param([switch] $AnyRun)
            # Pools first (they would refill), then every service of this file; then waits until their containers are gone
            # from the nodes that are up (the reserved capacity is free again), so that the next test places on empty nodes.
            Get-SandboxPool -Name "$prefix*" -ErrorAction SilentlyContinue | Stop-SandboxPool -Confirm:$false -ErrorAction SilentlyContinue
            $ids = @(Get-TestService -AnyRun:$AnyRun | ForEach-Object Id)
            if (-not $ids.Count) { return }
            Invoke-NodeDocker node1 service rm @ids *> $null
            $up = @(Invoke-NodeDocker node1 node ls --format '{{.Hostname}}|{{.Status}}' 2>$null | Where-Object { $_ -like '*|Ready' } | ForEach-Object { ($_ -split '\|')[0] })
            $null = Wait-Until -TimeoutSec 20 {
                $left = foreach ($node in $up) { Invoke-NodeDocker $node ps -a --filter label=io.sandbox.managed=true --format '{{.Label "com.docker.swarm.service.id"}}' 2>$null }
                -not @(Get-TestService -AnyRun:$AnyRun).Count -and -not @($left | Where-Object { $_ -in $ids }).Count
            }
        }

        function Get-ContainerOnNode([string] $Node, [string] $Id) {
            # State, labels and mounts of a container on a node's engine; $null when that engine does not have it.
            $json = Invoke-NodeDocker $Node container inspect $Id 2>$null
            if ($LASTEXITCODE -ne 0) { return $null }
            ($json | ConvertFrom-Json)[0]
        }

        # The nodes' die events of module containers (exit code and time), to tell how each sandbox ended: exit code 0 is
        # PID 1, the deadline guard, ending by itself; a removal stops it with SIGTERM and then SIGKILL (137).
        $eventsFolder = New-Item -ItemType Directory -Force -Path (Join-Path ([IO.Path]::GetTempPath()) "$prefix-events")
        $eventProcesses = foreach ($node in $nodeNames) {
            $file = Join-Path $eventsFolder "$node.txt"
            Start-Process -FilePath env -PassThru -RedirectStandardOutput $file -RedirectStandardError "$file.err" -ArgumentList @(
                '-u', 'DOCKER_TLS_VERIFY', '-u', 'DOCKER_CERT_PATH', '-u', 'DOCKER_HOST', 'docker', '-H', (Get-NodeSocket $node), 'events',
                '--filter', 'type=container', '--filter', 'event=die', '--filter', 'label=io.sandbox.managed=true',
                '--format', '{{.Actor.ID}}|{{.Actor.Attributes.exitCode}}|{{.TimeNano}}')
        }

        function Get-DieEvent([string] $Id) {
            # The die event of a container on any node: ExitCode, Time (UTC).
            Get-ChildItem -LiteralPath $eventsFolder -Filter '*.txt' | ForEach-Object { Get-Content -LiteralPath $_.FullName } | ForEach-Object {
                $containerId, $code, $nano = $_ -split '\|', 3
                if ($containerId -eq $Id) {
                    [pscustomobject]@{ ExitCode = [int]$code; Time = [DateTimeOffset]::FromUnixTimeMilliseconds([long]([decimal]$nano / 1000000)).UtcDateTime }
                }
            } | Select-Object -First 1
        }

        # The module reaches the manager (and, with the same files, each node) as the docker CLI would.
        $savedEnvironment = @{}
        foreach ($name in 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'SANDBOX_CLUSTER', 'SANDBOX_CLUSTER_NODES') {
            $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name)
        }
        foreach ($entry in @{ DOCKER_HOST = $null; DOCKER_CONTEXT = $null; DOCKER_TLS_VERIFY = '1'; DOCKER_CERT_PATH = $certPath; SANDBOX_CLUSTER = $null; SANDBOX_CLUSTER_NODES = $null }.GetEnumerator()) {
            [Environment]::SetEnvironmentVariable($entry.Key, $entry.Value)
        }

        $down = @(Invoke-NodeDocker node1 node ls --format '{{.Hostname}} {{.Status}}' | Where-Object { $_ -notmatch ' Ready$' })
        if ($down.Count) { throw "The test swarm is not whole: $($down -join '; '). Start it with: bash $swarmScript" }
        Remove-ClusterTestService -AnyRun
    }

    AfterAll {
        if ($eventProcesses) { $eventProcesses | Where-Object { -not $_.HasExited } | ForEach-Object { $_.Kill() } }
        if ($eventsFolder) { Remove-Item -LiteralPath $eventsFolder -Recurse -Force -ErrorAction SilentlyContinue }
        if ($manager) { Remove-ClusterTestService }
        if ($savedEnvironment) { foreach ($entry in $savedEnvironment.GetEnumerator()) { [Environment]::SetEnvironmentVariable($entry.Key, $entry.Value) } }
        Complete-SandboxTest
    }

    Context 'Placement: 6 default sandboxes (1 CPU reserved each) on 3 nodes of 2 CPUs' {
        BeforeAll {
            $spread = @(1..6 | ForEach-Object { New-Sandbox -Cluster $manager -Name (New-TestName "spread$_") -Timeout 120 -ErrorAction Stop })
        }
        AfterAll { Remove-ClusterTestService }

        It 'places two on each node, and each runs as a container on the node its Node property names' {
            $spread | Should -HaveCount 6
            $byNode = @($spread | Group-Object Node)
            ($byNode.Name | Sort-Object) | Should -Be ($nodeNames | Sort-Object)
            $byNode | ForEach-Object { $_.Count | Should -Be 2 -Because "the swarm places by reservations; on $($_.Name): $($_.Group.Name -join ', ')" }
            foreach ($sandbox in $spread) {
                $sandbox.Cluster | Should -Be $manager
                $sandbox.NodeAddress | Should -Match '^10\.213\.0\.1\d$'
                $sandbox.DockerHost | Should -Be "tcp://$($sandbox.NodeAddress):2376"
                $sandbox.TaskState | Should -Be 'running'
                $container = Get-ContainerOnNode $sandbox.Node $sandbox.Id
                $container | Should -Not -BeNullOrEmpty -Because "$($sandbox.Name) should run on $($sandbox.Node)"
                $container.State.Running | Should -BeTrue
                $container.Config.Labels.'io.sandbox.managed' | Should -Be 'true'
                $container.Config.Labels.'com.docker.swarm.service.name' | Should -Be $sandbox.Name
                foreach ($other in $nodeNames | Where-Object { $_ -ne $sandbox.Node }) {
                    Get-ContainerOnNode $other $sandbox.Id | Should -BeNullOrEmpty
                }
            }
        }

        It 'Get-Sandbox -Cluster lists all six with Node, NodeAddress and TaskState' {
            $listed = @(Get-Sandbox -Cluster $manager | Where-Object Name -In $spread.Name)
            $listed | Should -HaveCount 6
            foreach ($sandbox in $spread) {
                $found = $listed | Where-Object Name -EQ $sandbox.Name
                $found.Id | Should -Be $sandbox.Id
                $found.ServiceId | Should -Be $sandbox.ServiceId
                $found.Node | Should -Be $sandbox.Node
                $found.NodeAddress | Should -Be $sandbox.NodeAddress
                $found.TaskState | Should -Be 'running'
                $found.State | Should -Be 'running'
                $found.Cluster | Should -Be $manager
            }
        }

        It 'shows the node in the table''s group headers, and the table fits 80 columns' {
            $listed = @(Get-Sandbox -Cluster $manager | Where-Object Name -In $spread.Name)
            $narrow = ($listed | Out-String -Width 80) -split "`r?`n"
            $wide = ($listed | Out-String -Width 400) -split "`r?`n"
            $headers = @($wide | Where-Object { $_ -match 'DockerHost:' } | ForEach-Object Trim)
            $headers | Should -HaveCount 3
            foreach ($node in $nodeNames) {
                $address = ($spread | Where-Object Node -EQ $node | Select-Object -First 1).NodeAddress
                @($headers | Where-Object { $_ -match "DockerHost: tcp://$([regex]::Escape($address)):2376\b" -and $_ -match "\b$node\b" }) | Should -HaveCount 1 -Because "a header names ${node}: $($headers -join ' / ')"
            }
            foreach ($header in $headers) {
                ($narrow | ForEach-Object Trim) | Should -Contain $header -Because "the group header should fit in 80 columns, unbroken (it is $($header.Length) characters)"
            }
            ($narrow | Measure-Object -Property Length -Maximum).Maximum | Should -BeLessOrEqual 80
        }
    }

    Context 'Work on <Node>: exec, copy, -Path and a published port, through the node''s engine' -ForEach $EachNode {
        BeforeAll {
            $code = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive "code-$Node")
            Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo original'
            $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName 'work') -PlacementConstraint "node.hostname==$Node" -Port 8080 -Path $code.FullName -ErrorAction Stop
        }
        AfterAll { Remove-ClusterTestService }

        It 'runs on <Node> with a copy of -Path at /workspace' {
            $sandbox.Node | Should -Be $Node
            $sandbox.WorkspaceMode | Should -Be 'Copied'
            $sandbox | Invoke-SandboxCommand 'cat /workspace/main.sh' | Should -Be 'echo original'
            Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo changed on the host'
            $sandbox | Invoke-SandboxCommand 'cat /workspace/main.sh' | Should -Be 'echo original' -Because 'a node gets a copy, made at creation'
            $container = Get-ContainerOnNode $Node $sandbox.Id
            $container.Mounts | Where-Object Destination -EQ '/workspace' | Should -BeNullOrEmpty -Because 'no folder of this machine is mounted on a node'
        }

        It 'runs a command on <Node>: stdout, stderr, exit code, stdin' {
            $global:LASTEXITCODE = 0
            $sandbox | Invoke-SandboxCommand 'echo to-stdout; echo to-stderr >&2; hostname; exit 7' -InformationVariable info 6>$null |
                Should -Be 'to-stdout', $sandbox.Id.Substring(0, 12)
            "$($info.MessageData)" | Should -Be 'to-stderr'
            $LASTEXITCODE | Should -Be 7
            'b', 'c', 'a' | Invoke-SandboxCommand -Sandbox $sandbox 'sort' | Should -Be 'a', 'b', 'c'
            ($sandbox | Invoke-SandboxCommand 'echo ok' -PassThru)[-1].ExitCode | Should -Be 0
        }

        It 'copies a file and a folder into and out of the sandbox on <Node>, byte for byte' {
            $blob = Join-Path $TestDrive "blob-$Node.bin"
            $data = [byte[]]::new(200KB + 3)
            [Random]::new(5).NextBytes($data)
            for ($i = 0; $i -lt 256; $i++) { $data[$i] = [byte]$i }
            [IO.File]::WriteAllBytes($blob, $data)
            $tree = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive "tree-$Node/sub")
            Set-Content -LiteralPath (Join-Path $tree 'leaf.txt') -Value "leaf on $Node"
            $out = New-Item -ItemType Directory -Force -Path (Join-Path $TestDrive "out-$Node")

            $sandbox | Invoke-SandboxCommand 'mkdir -p /tmp/xfer'
            $sandbox | Copy-SandboxItem -Path $blob -Destination /tmp/xfer
            $sandbox | Copy-SandboxItem -Path (Split-Path $tree) -Destination /tmp/xfer -Recurse
            ($sandbox | Invoke-SandboxCommand "sha256sum /tmp/xfer/blob-$Node.bin") -split '\s+' | Select-Object -First 1 |
                Should -Be (Get-FileHash -LiteralPath $blob -Algorithm SHA256).Hash.ToLowerInvariant()
            $sandbox | Invoke-SandboxCommand "cat /tmp/xfer/tree-$Node/sub/leaf.txt" | Should -Be "leaf on $Node"

            $sandbox | Copy-SandboxItem -Path "/tmp/xfer/blob-$Node.bin" -Destination $out.FullName -FromSandbox
            $sandbox | Copy-SandboxItem -Path "/tmp/xfer/tree-$Node" -Destination $out.FullName -FromSandbox -Recurse
            [Linq.Enumerable]::SequenceEqual([IO.File]::ReadAllBytes((Join-Path $out "blob-$Node.bin")), $data) | Should -BeTrue
            Get-Content -LiteralPath (Join-Path $out "tree-$Node/sub/leaf.txt") | Should -Be "leaf on $Node"
        }

        It 'publishes -Port 8080 on <Node>''s address: an HTTP GET from this machine reaches the server inside' {
            $sandbox.Ports | Should -HaveCount 1
            $port = $sandbox.Ports[0]
            $port.ContainerPort | Should -Be 8080
            $port.HostPort | Should -BeGreaterThan 0
            $port.Url | Should -Be "http://$($sandbox.NodeAddress):$($port.HostPort)"
            $sandbox | Invoke-SandboxCommand 'mkdir -p /tmp/www && echo "served by $(hostname)" > /tmp/www/index.html && busybox httpd -p 8080 -h /tmp/www'
            $response = Invoke-WebRequestWithRetry -Uri "$($port.Url)/index.html" -TimeoutSec 10
            (ConvertTo-Text $response.Content).Trim() | Should -Be "served by $($sandbox.Id.Substring(0, 12))"
        }
    }

    Context 'Sessions on a cluster sandbox' {
        BeforeAll {
            $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName 'sess') -PlacementConstraint "node.hostname==$($nodeNames[1])" -ErrorAction Stop
        }
        AfterAll {
            Get-SandboxSession | Remove-SandboxSession
            Remove-ClusterTestService
        }

        It 'keeps the directory and variables between commands and reports exit codes' {
            $session = $sandbox | New-SandboxSession
            try {
                $session | Invoke-SandboxCommand 'mkdir -p /tmp/s && cd /tmp/s; export COUNT=41'
                Invoke-SandboxCommand -Session $session 'COUNT=$((COUNT + 1))'
                Invoke-SandboxCommand -Session $session 'echo "$(pwd) $COUNT"' | Should -Be '/tmp/s 42'
                Invoke-SandboxCommand -Session $session 'echo err >&2; exit_with() { return $1; }; exit_with 5' 2>$null
                $LASTEXITCODE | Should -Be 5
                $session.State | Should -Be 'Open'
                Invoke-SandboxCommand -Session $session 'hostname' | Should -Be $sandbox.Id.Substring(0, 12)
            }
            finally { $session | Remove-SandboxSession }
        }
    }

    Context 'Deadlines on a cluster' {
        BeforeAll {
            $global:SandboxTestClusterEvents = [Collections.ArrayList]::new()
            foreach ($source in 'Sandbox.Expired', 'Sandbox.Stopped') {
                $null = Register-EngineEvent -SourceIdentifier $source -Action {
                    $argument = $Event.SourceArgs[0]
                    $s = if ($argument -is [Sandbox.Sandbox]) { $argument } else { $argument.Sandbox }
                    [void]$global:SandboxTestClusterEvents.Add([pscustomobject]@{ Source = $Event.SourceIdentifier; Name = $s.Name })
                }
            }
            function Get-ClusterEvent([string] $Source, [string] $Name) { @($global:SandboxTestClusterEvents | Where-Object { $_.Source -eq $Source -and $_.Name -eq $Name }) }
        }
        AfterAll {
            foreach ($source in 'Sandbox.Expired', 'Sandbox.Stopped') {
                Unregister-Event -SourceIdentifier $source -ErrorAction SilentlyContinue
                Get-Job -Name $source -ErrorAction SilentlyContinue | Remove-Job -Force
            }
            Remove-ClusterTestService
        }

        It 'a -Timeout 5 sandbox ends by itself: PID 1 is the deadline guard, the task ends, the service goes, -OnKill and Sandbox.Expired once' {
            $hook = Join-Path $TestDrive 'expired.log'
            $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName 'exp') -Timeout 5 -OnKill (New-FileHook $hook) -ErrorAction Stop
            $expires = $sandbox.ExpiresAt.ToUniversalTime()
            ($sandbox | Invoke-SandboxCommand 'tr "\0" " " < /proc/1/cmdline') | Should -Match 'sandbox-deadline'

            Wait-Until { Get-DieEvent $sandbox.Id } -Deadline $expires.AddSeconds(3) | Should -BeTrue -Because 'the task''s container should end at its deadline'
            $died = Get-DieEvent $sandbox.Id
            $died.ExitCode | Should -Be 0 -Because 'the deadline guard (PID 1) ends it, not a removal'
            ($died.Time - $expires).TotalSeconds | Should -BeGreaterThan -0.3 -Because 'not before its deadline'
            Wait-Until { -not (Test-ServiceExists $sandbox.ServiceId) } -Deadline $expires.AddSeconds(20) |
                Should -BeTrue -Because 'the cleanup engine removes a service whose task ended'
            Wait-Until { (Test-Path -LiteralPath $hook) -and (Get-ClusterEvent Sandbox.Expired $sandbox.Name).Count -ge 1 } -TimeoutSec 10 | Should -BeTrue
            # A later removal in this process raises its event after any second one of the expired sandbox.
            $sentinel = New-Sandbox -DockerHost 'unix:///var/run/docker.sock' -Name (New-TestName 'sentinel') -Timeout 60
            $sentinel | Stop-Sandbox
            Wait-Until { (Get-ClusterEvent Sandbox.Stopped $sentinel.Name).Count -ge 1 } -TimeoutSec 10 | Should -BeTrue
            @(Get-Content -LiteralPath $hook | Where-Object { $_ -like 'dollar_=*' }) | Should -Be "dollar_=$($sandbox.Name)"
            (Get-ClusterEvent Sandbox.Expired $sandbox.Name).Count | Should -Be 1
            (Get-ClusterEvent Sandbox.Stopped $sandbox.Name).Count | Should -Be 0
        }

        It 'Set-Sandbox -Timeout moves a cluster sandbox''s deadline: extended, it outlives the first; shortened, it ends early' {
            $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName 'move') -Timeout 5 -ErrorAction Stop
            $first = $sandbox.ExpiresAt.ToUniversalTime()
            $sandbox | Set-Sandbox -Timeout 30 -Confirm:$false
            $extended = [datetime]::UtcNow.AddSeconds(30)
            Wait-Until { Get-DieEvent $sandbox.Id } -Deadline $first.AddSeconds(3) | Should -BeFalse -Because 'the extended sandbox must outlive its first deadline'
            $sandbox | Invoke-SandboxCommand 'echo alive' | Should -Be 'alive'
            $listed = Get-Sandbox -Cluster $manager -Name $sandbox.Name
            $listed.State | Should -Be 'running'
            [math]::Abs(($listed.ExpiresAt.ToUniversalTime() - $extended).TotalSeconds) | Should -BeLessThan 2 -Because 'Get-Sandbox reads the moved deadline from the node'

            $beforeShortening = [datetime]::UtcNow
            $sandbox | Set-Sandbox -Timeout 2 -Confirm:$false
            $shortened = [datetime]::UtcNow.AddSeconds(2)
            # The layer that holds with no PowerShell alive: the file PID 1 watches on the node has the new deadline
            # (whole epoch seconds, rounded up). Which layer then ends it (PID 1, exit 0, or this process's cleanup
            # engine a second after the exact deadline, 137) is a race either side of which keeps the promise.
            $inFile = [long](($sandbox | Invoke-SandboxCommand 'cat /run/sandbox/deadline') -join '').Trim()
            $inFile - [DateTimeOffset]::new($shortened).ToUnixTimeSeconds() | Should -BeIn @(-1, 0, 1) -Because 'the guard on the node reads the shortened deadline'
            Wait-Until { Get-DieEvent $sandbox.Id } -Deadline $shortened.AddSeconds(3) | Should -BeTrue -Because 'the shortened deadline ends it'
            $died = Get-DieEvent $sandbox.Id
            $died.ExitCode | Should -BeIn @(0, 137) -Because 'PID 1 exits (0) or the cleanup engine removes it (137), nothing else'
            $died.Time | Should -BeGreaterThan $beforeShortening.AddSeconds(1.7) -Because 'not before the shortened deadline'
            $died.Time | Should -BeLessThan $extended.AddSeconds(-10)
            Wait-Until { -not (Test-ServiceExists $sandbox.ServiceId) } -TimeoutSec 20 | Should -BeTrue
        }
    }

    Context 'Hostile code in a cluster sandbox cannot outlive its deadline' {
        BeforeAll {
            # Two cases of Deadline.Tests.ps1 (busybox, root, default capabilities): freeze every process, kill every process.
            $cases = @(& "$PSScriptRoot/Deadline.Cases.ps1") | Where-Object Key -In 'bb-freeze-root', 'bb-kill-root'
            $attacks = @{
                freeze = 'sleep 997 & while :; do kill -STOP -1; sleep 0.2; done'
                kill   = 'sleep 998 & while :; do kill -9 -1; done'
            }
            # The attack waits until the exec that starts it has ended, or it would freeze or kill that exec too.
            $launch = 'P=$PPID; S=$$; sh -c ''while kill -0 ''$S'' 2>/dev/null || { [ ''$P'' -gt 1 ] && kill -0 ''$P'' 2>/dev/null; }; do sleep 0.05; done; exec sh -c "$ATTACK"'' >/dev/null 2>&1 </dev/null &'
            $hostile = foreach ($case in $cases) {
                $node = $nodeNames[1 + [array]::IndexOf(@($cases), $case) % 2]
                $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName $case.Attack) -Timeout 10 -PlacementConstraint "node.hostname==$node" -ErrorAction Stop
                $null = $sandbox | Invoke-SandboxCommand -Environment @{ ATTACK = $attacks[$case.Attack] } -Command $launch
                [pscustomobject]@{ Case = $case.Key; Attack = $case.Attack; Sandbox = $sandbox }
            }

            function Test-AttackHold([object] $Sandbox, [string] $Attack) {
                $rows = @(Invoke-NodeDocker $Sandbox.Node top $Sandbox.Id -o 'pid,stat,args' 2>$null | Select-Object -Skip 1)
                switch ($Attack) {
                    'freeze' { @($rows | Where-Object { $_ -match '^\s*\d+\s+T\S*\s+.*sleep 997' }).Count -gt 0 }
                    'kill' { @($rows | Where-Object { $_ -match 'kill -9 -1' }).Count -gt 0 -and @($rows | Where-Object { $_ -match '^\s*\d+\s+\S+\s+sleep 998' }).Count -eq 0 }
                }
            }
        }
        AfterAll { Remove-ClusterTestService }

        It 'the attacks took hold inside' {
            $hostile | Should -HaveCount 2
            foreach ($h in $hostile) {
                Wait-Until { Test-AttackHold $h.Sandbox $h.Attack } -TimeoutSec 5 | Should -BeTrue -Because "$($h.Case) should hold on $($h.Sandbox.Node)"
            }
        }

        It 'each ends by its own deadline guard (exit 0), within 3 s of ExpiresAt' {
            foreach ($h in $hostile) {
                $expires = $h.Sandbox.ExpiresAt.ToUniversalTime()
                Wait-Until { Get-DieEvent $h.Sandbox.Id } -Deadline $expires.AddSeconds(3) | Should -BeTrue -Because "$($h.Case) must end by $($expires.ToString('o')) + 3 s"
                $died = Get-DieEvent $h.Sandbox.Id
                Write-Host ('  {0} on {1}: ended {2:0.00} s after its deadline, exit code {3}' -f $h.Case, $h.Sandbox.Node, ($died.Time - $expires).TotalSeconds, $died.ExitCode)
                $died.ExitCode | Should -Be 0 -Because "the guard, PID 1, ends $($h.Case) (a removal would be 137)"
                ($died.Time - $expires).TotalSeconds | Should -BeGreaterThan -0.3
            }
            foreach ($h in $hostile) {
                Wait-Until { -not (Test-ServiceExists $h.Sandbox.ServiceId) } -TimeoutSec 20 | Should -BeTrue
            }
        }
    }

    Context 'Capacity: what no node can take is refused in bounded time, and nothing is left' {
        AfterAll { Remove-ClusterTestService }

        It 'refuses <What> with <ErrorId> within <Bound> s and leaves no service' -ForEach @(
            @{ What = '-Cpus 3 (every node has 2)'; Options = @{ Cpus = 3 }; ErrorId = 'NoNodeForSandbox'; Bound = 20 }
            @{ What = "-PlacementConstraint 'node.hostname==nope'"; Options = @{ PlacementConstraint = 'node.hostname==nope' }; ErrorId = 'NoNodeForSandbox'; Bound = 20 }
            @{ What = 'an image no node has'; Options = @{ Image = 'sandbox-local/not-on-any-node:1' }; ErrorId = 'ImageNotOnNode'; Bound = 30 }
        ) {
            $name = New-TestName 'refused'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            { New-Sandbox -Cluster $manager -Name $name @Options -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId*"
            $clock.Elapsed.TotalSeconds | Should -BeLessThan $Bound
            Test-ServiceExists $name | Should -BeFalse -Because 'a refused sandbox leaves no service behind'
        }
    }

    Context 'Stopping across the cluster' {
        AfterAll { Remove-ClusterTestService }

        It 'Get-Sandbox -Cluster | Stop-Sandbox removes every sandbox on every node' {
            $made = @(1..3 | ForEach-Object { New-Sandbox -Cluster $manager -Name (New-TestName "all$_") -PlacementConstraint "node.hostname==$($nodeNames[$_ - 1])" -ErrorAction Stop })
            Get-Sandbox -Cluster $manager | Stop-Sandbox -Confirm:$false
            @(Get-Sandbox -Cluster $manager) | Should -HaveCount 0
            @(Invoke-NodeDocker node1 service ls -q --filter label=io.sandbox.managed=true) | Where-Object { $_ } | Should -BeNullOrEmpty
            foreach ($sandbox in $made) { Get-ContainerOnNode $sandbox.Node $sandbox.Id | Should -BeNullOrEmpty -Because "Stop-Sandbox waits until it is gone from $($sandbox.Node)" }
        }

        It 'Stop-Sandbox -Cluster -All never touches a service that is not the module''s' {
            $other = "$prefix-other"
            # (The CLI warns on stderr that it cannot pin the image's digest: there is no registry here.)
            Invoke-NodeDocker node1 service create --detach --quiet --name $other --restart-condition none (Get-TestImage) sleep 300 2>$null | Out-Null
            try {
                $LASTEXITCODE | Should -Be 0
                $mine = New-Sandbox -Cluster $manager -Name (New-TestName 'mine') -ErrorAction Stop
                Stop-Sandbox -Cluster $manager -All -Confirm:$false
                Test-ServiceExists $mine.ServiceId | Should -BeFalse
                Test-ServiceExists $other | Should -BeTrue -Because 'a service without the module''s labels is not a sandbox'
            }
            finally { Invoke-NodeDocker node1 service rm $other *> $null }
        }
    }

    Context 'A warm pool on the cluster' {
        AfterAll { Remove-ClusterTestService }

        It 'New-Sandbox -Cluster takes a ready member fast; Stop-SandboxPool removes the rest' {
            $poolName = "$prefix-pool"
            $pool = Start-SandboxPool -Cluster $manager -Name $poolName -Size 2 -Wait -Confirm:$false
            try {
                $pool.Ready | Should -Be 2
                $members = @(Get-TestService | Where-Object { $_.Labels.PSObject.Properties['io.sandbox.pool'] -and $_.Labels.'io.sandbox.pool' -eq $poolName })
                $members | Should -HaveCount 2 -Because 'the members are services on the cluster'
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $taken = New-Sandbox -Cluster $manager -ErrorAction Stop
                $seconds = $clock.Elapsed.TotalSeconds
                Write-Host ('  New-Sandbox from the cluster pool: {0:0.000} s' -f $seconds)
                $taken.Pool | Should -Be $poolName
                $taken.Name | Should -BeIn $members.Name
                $taken.Node | Should -BeIn $nodeNames
                $seconds | Should -BeLessThan 1 -Because 'a pool member is ready; a fresh cluster sandbox takes about a second'
                $taken | Invoke-SandboxCommand 'echo from-the-pool' | Should -Be 'from-the-pool'
                $taken | Stop-Sandbox -Confirm:$false
            }
            finally { Stop-SandboxPool -Name $poolName -Confirm:$false }
            Wait-Until { -not @(Get-TestService | Where-Object { $_.Labels.PSObject.Properties['io.sandbox.pool'] -and $_.Labels.'io.sandbox.pool' -eq $poolName }).Count } -TimeoutSec 15 |
                Should -BeTrue -Because 'Stop-SandboxPool removes its members'
        }
    }

    Context 'The default cluster ($env:SANDBOX_CLUSTER) and the node map (-NodeEndpoint)' {
        AfterAll {
            # The map is remembered per cluster in this process: give back an empty one.
            $null = Get-Sandbox -Cluster $manager -NodeEndpoint @{} -ErrorAction SilentlyContinue
            Remove-ClusterTestService
        }

        It 'New-Sandbox without -Cluster goes to $env:SANDBOX_CLUSTER, and the variable is put back afterwards' {
            $name = New-TestName 'envcl'
            $made = Use-TestEnvironment @{ SANDBOX_CLUSTER = $manager } {
                New-Sandbox -Name $name -ErrorAction Stop
                (Get-Sandbox -Name $name).ServiceId
            }
            try {
                $env:SANDBOX_CLUSTER | Should -BeNullOrEmpty
                $made[0].Cluster | Should -Be $manager
                $made[0].Node | Should -BeIn $nodeNames
                $made[1] | Should -Be $made[0].ServiceId -Because 'Get-Sandbox without -Cluster looks there too'
                Test-ServiceExists $made[0].ServiceId | Should -BeTrue
                Invoke-NodeDocker $made[0].Node inspect --format '{{.State.Running}}' $made[0].Id | Should -Be 'true'
            }
            finally { $made[0] | Stop-Sandbox -Confirm:$false }   # (frees its CPU: the tests below place on node 2)
        }

        It 'maps sandbox-node2 to 10.213.0.12:2376 explicitly, and work reaches it there' {
            $node = $nodeNames[1]
            $sandbox = New-Sandbox -Cluster $manager -NodeEndpoint @{ $node = '10.213.0.12:2376' } -Name (New-TestName 'map') -PlacementConstraint "node.hostname==$node" -ErrorAction Stop
            try {
                $sandbox.DockerHost | Should -Be 'tcp://10.213.0.12:2376'
                $sandbox | Invoke-SandboxCommand 'echo mapped' | Should -Be 'mapped'
            }
            finally { $sandbox | Stop-Sandbox -Confirm:$false }
        }

        It 'maps it to an address where no engine answers: NodeEngineUnavailable, and no service is left' {
            $node = $nodeNames[1]
            $name = New-TestName 'badmap'
            try {
                { New-Sandbox -Cluster $manager -NodeEndpoint @{ $node = '127.0.0.1:1' } -Name $name -PlacementConstraint "node.hostname==$node" -ErrorAction Stop } |
                    Should -Throw -ErrorId 'NodeEngineUnavailable*'
            }
            finally { $null = Get-Sandbox -Cluster $manager -NodeEndpoint @{} -ErrorAction SilentlyContinue }
            Test-ServiceExists $name | Should -BeFalse
        }
    }

    Context 'Errors of a wrong target or setting' {
        AfterAll { Remove-ClusterTestService }

        It '-Cluster at an engine that is no swarm manager (<Target>): NotASwarmManager' -ForEach @(
            @{ Target = 'unix:///var/run/docker.sock' }
            @{ Target = 'tcp://127.0.0.1:2376' }
        ) {
            { New-Sandbox -Cluster $Target -Name (New-TestName 'noswarm') -ErrorAction Stop } | Should -Throw -ErrorId 'NotASwarmManager*'
            { Get-Sandbox -Cluster $Target -ErrorAction Stop } | Should -Throw -ErrorId 'NotASwarmManager*'
        }

        It '-Cluster with -DockerHost: ConflictingTargets' {
            { New-Sandbox -Cluster $manager -DockerHost 'unix:///var/run/docker.sock' -ErrorAction Stop } | Should -Throw -ErrorId 'ConflictingTargets*'
        }

        It 'a limit a service cannot have (shm_size): LimitNotOnCluster, and no service is left' {
            $name = New-TestName 'shm'
            { New-Sandbox -Cluster $manager -Name $name -Limits @{ shm_size = '64m' } -ErrorAction Stop } | Should -Throw -ErrorId 'LimitNotOnCluster*'
            Test-ServiceExists $name | Should -BeFalse
        }

        It 'what one engine has and a swarm service cannot: -Runtime, -Snapshot, Suspend-Sandbox' {
            { New-Sandbox -Cluster $manager -Name (New-TestName 'rt') -Runtime runc -ErrorAction Stop } | Should -Throw -ErrorId 'RuntimeNotOnCluster*'
            { New-Sandbox -Cluster $manager -Name (New-TestName 'snap') -Snapshot nothing -ErrorAction Stop } | Should -Throw -ErrorId 'SnapshotNotOnCluster*'
            $sandbox = New-Sandbox -Cluster $manager -Name (New-TestName 'susp') -Cpus 0.1 -Memory 64MB -ErrorAction Stop
            { $sandbox | Suspend-Sandbox -ErrorAction Stop } | Should -Throw -ErrorId 'SuspendNotOnCluster*'
            ($sandbox | Invoke-SandboxCommand 'echo still-running') | Should -Be 'still-running'
        }
    }

    # Last: the others need three nodes.
    Context 'A worker node killed mid-run' {
        BeforeAll {
            $victimNode = $nodeNames[2]   # (first: AfterAll revives it whatever fails below)
            $hook = Join-Path $TestDrive 'lost.log'
            $onNode = @{}
            foreach ($node in $nodeNames) {
                $onNode[$node] = New-Sandbox -Cluster $manager -Name (New-TestName 'fault') -PlacementConstraint "node.hostname==$node" -OnKill (New-FileHook $hook) -ErrorAction Stop
            }
            $victim = $onNode[$victimNode]
            $survivors = @($nodeNames | Where-Object { $_ -ne $victimNode } | ForEach-Object { $onNode[$_] })
            $killed = [datetime]::UtcNow
            bash $swarmScript --kill-node ($victimNode -replace '^sandbox-', '') 2>&1 | Out-Null
            $killExit = $LASTEXITCODE
        }
        AfterAll {
            bash $swarmScript --revive-node ($victimNode -replace '^sandbox-', '') 2>&1 | Out-Host
            $null = Wait-Until -TimeoutSec 60 -IntervalMs 500 { @(Invoke-NodeDocker node1 node ls --format '{{.Status}}' | Where-Object { $_ -ne 'Ready' }).Count -eq 0 }
            Remove-ClusterTestService
        }

        It 'reports the sandbox on the dead node lost once the node is Down, then its service goes with a "was lost" warning and -OnKill' {
            $killExit | Should -Be 0
            $warnings = [Collections.Generic.List[object]]::new()
            $timeline = [Collections.Generic.List[string]]::new()
            $first = @{}   # (the condition runs in a scope of its own: it fills this, it cannot set a variable here)
            $gone = Wait-Until -TimeoutSec 45 -IntervalMs 250 {
                $listed = @(Get-Sandbox -Cluster $manager -WarningVariable w -WarningAction SilentlyContinue)
                $w | ForEach-Object { $warnings.Add($_) }
                $entry = $listed | Where-Object Name -EQ $victim.Name
                $nodeState = (Invoke-NodeDocker node1 node inspect --format '{{.Status.State}}' $victimNode 2>$null) -join ''
                $seen = 'node {0}, sandbox {1}' -f $nodeState, $(if ($entry) { "State $($entry.State), TaskState $($entry.TaskState)" } else { 'not listed' })
                if (-not $timeline.Count -or -not $timeline[-1].EndsWith($seen)) { $timeline.Add(('{0:0.0} s: {1}' -f ([datetime]::UtcNow - $killed).TotalSeconds, $seen)) }
                if ($entry -and $entry.State -eq 'lost' -and -not $first.Lost) { $first.Lost = [datetime]::UtcNow }
                -not $entry
            }
            $null = Get-Sandbox -Cluster $manager -WarningVariable w -WarningAction SilentlyContinue
            $w | ForEach-Object { $warnings.Add($_) }
            $timeline | ForEach-Object { Write-Host "    $_" }
            Write-Host ('  node killed; listed as lost after {0}; service gone after {1:0.0} s' -f $(if ($first.Lost) { '{0:0.0} s' -f ($first.Lost - $killed).TotalSeconds } else { 'never' }), ([datetime]::UtcNow - $killed).TotalSeconds)
            $first.Lost | Should -Not -BeNullOrEmpty -Because "Get-Sandbox -Cluster shows State lost once the node is Down; seen: $($timeline -join '; ')"
            $gone | Should -BeTrue -Because 'the cleanup engine removes a lost sandbox''s service'
            Test-ServiceExists $victim.ServiceId | Should -BeFalse
            @($warnings | Where-Object { "$_" -like "Sandbox '$($victim.Name)' was lost*" }) | Should -HaveCount 1
            Wait-Until { Test-Path -LiteralPath $hook } -TimeoutSec 5 | Should -BeTrue
            @(Get-Content -LiteralPath $hook | Where-Object { $_ -like 'dollar_=*' }) | Should -Be "dollar_=$($victim.Name)"
        }

        It 'leaves the sandboxes on the other nodes running and answering' {
            foreach ($sandbox in $survivors) {
                $found = Get-Sandbox -Cluster $manager -Name $sandbox.Name -WarningAction SilentlyContinue
                $found.State | Should -Be 'running'
                $found.Node | Should -Be $sandbox.Node
                $sandbox | Invoke-SandboxCommand 'echo still-here' | Should -Be 'still-here'
                (Get-ContainerOnNode $sandbox.Node $sandbox.Id).State.Running | Should -BeTrue
            }
        }
    }
}
