#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

# Get-SandboxStats against the real engine: the numbers match what docker stats shows for the same container, -Watch
# keeps giving readings and stops at once, a sandbox that is gone is one error while the others go on.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'stats'
    Assert-TestEndpoint

    # 40 MiB in tmpfs for memory (anonymous pages, which the used figure keeps). The CPU burner is started with docker
    # exec -d: Invoke-SandboxCommand ends what its command leaves running.
    $fill = 'head -c 40m /dev/zero > /dev/shm/fill'

    # 20 datagrams of 1000 bytes from this host to the sandbox's address (every test endpoint is this host's dockerd):
    # received bytes the network column must count.
    function Send-Datagrams([string] $ContainerId) {
        $address = docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $ContainerId
        $udp = [System.Net.Sockets.UdpClient]::new()
        try { for ($i = 0; $i -lt 20; $i++) { $null = $udp.Send([byte[]]::new(1000), 1000, $address, 9) } } finally { $udp.Dispose() }
    }

    # $Script's first parameter is the module path.
    function Start-StatsWatch([scriptblock] $Script, [object[]] $Arguments) {
        $shell = [PowerShell]::Create()
        $null = $shell.AddScript($Script).AddArgument((Get-SandboxModulePath))
        foreach ($argument in $Arguments) { $null = $shell.AddArgument($argument) }
        $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
        [pscustomobject]@{ Shell = $shell; Output = $output; Running = $shell.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]$null, $output) }
    }

    # PSDataCollection enumerates until it is closed: take what is there by index.
    function Get-Taken($Collection) { @(for ($i = 0; $i -lt $Collection.Count; $i++) { $Collection[$i] }) }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Get-SandboxStats on <Name>' -ForEach (Get-TestEndpoints) {
    BeforeAll {
        $endpoint = $_
        $busyBox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "busy-$($endpoint.Name.ToLowerInvariant())") -Memory 256MB -ErrorAction Stop }
        $idleBox = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName "idle-$($endpoint.Name.ToLowerInvariant())") -ErrorAction Stop }
        Use-TestEndpoint $endpoint { $busyBox | Invoke-SandboxCommand $fill | Out-Null }
        docker exec -d $busyBox.Id sh -c 'while :; do :; done'
        Send-Datagrams $busyBox.Id
    }

    It 'reads CPU, memory, pids and network of a busy sandbox as docker stats shows them' {
        $stats = Use-TestEndpoint $endpoint { $busyBox | Get-SandboxStats -ErrorAction Stop }
        $cli = docker stats --no-stream --format '{{.MemUsage}}' $busyBox.Id
        @($stats).Count | Should -Be 1
        $stats.PSObject.TypeNames[0] | Should -Be 'Sandbox.SandboxStats'
        $stats.Name | Should -Be $busyBox.Name
        $stats.Id | Should -Be $busyBox.Id
        $stats.DockerHost | Should -Be $DockerHost
        # One shell loop spinning on a 1-CPU sandbox: up to one CPU (100), less on a machine whose cores other work
        # shares, and far more than an idle sandbox's.
        $idle = Use-TestEndpoint $endpoint { $idleBox | Get-SandboxStats -ErrorAction Stop }
        $stats.CpuPercent | Should -BeGreaterThan 5
        $stats.CpuPercent | Should -BeLessOrEqual 110
        $stats.CpuPercent | Should -BeGreaterThan (10 * $idle.CpuPercent)
        $stats.MemoryLimitBytes | Should -Be 256MB
        $stats.MemoryUsedBytes | Should -BeGreaterThan 40MB
        $stats.MemoryPercent | Should -Be ($stats.MemoryUsedBytes / 256MB * 100)
        # docker stats reads e.g. '40.63MiB / 256MiB': the same figure (usage less inactive file pages) within 1 MiB.
        $cliUsed = [double](($cli -split ' / ')[0] -replace 'MiB$', '') * 1MB
        [math]::Abs($stats.MemoryUsedBytes - $cliUsed) | Should -BeLessThan 1MB
        $stats.Pids | Should -BeGreaterOrEqual 2
        $stats.NetworkRxBytes | Should -BeGreaterOrEqual 20000
        $stats.NetworkTxBytes | Should -BeGreaterOrEqual 0
        $stats.BlockReadBytes | Should -BeGreaterOrEqual 0
        $stats.Time | Should -BeGreaterThan ([datetime]::UtcNow.AddMinutes(-1))
    }

    It 'takes sandboxes from the pipeline, by -Name and -Id, and all of the engine without either' {
        $piped = @(Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Name "$(Get-TestPrefix)-*-$($endpoint.Name.ToLowerInvariant())*" | Get-SandboxStats -ErrorAction Stop })
        ($piped.Name | Sort-Object) | Should -Be (@($busyBox.Name, $idleBox.Name) | Sort-Object)
        (Use-TestEndpoint $endpoint { Get-SandboxStats -DockerHost $DockerHost -Name $idleBox.Name -ErrorAction Stop }).Id | Should -Be $idleBox.Id
        (Use-TestEndpoint $endpoint { Get-SandboxStats -DockerHost $DockerHost -Id $idleBox.ShortId -ErrorAction Stop }).Name | Should -Be $idleBox.Name
        # Other sandboxes on a shared engine may go while they are read: their errors do not matter here.
        $all = @(Use-TestEndpoint $endpoint { Get-SandboxStats -DockerHost $DockerHost -ErrorAction SilentlyContinue })
        $all.Id | Should -Contain $busyBox.Id
        $all.Id | Should -Contain $idleBox.Id
    }

    It 'gives one clear error for a sandbox that is gone and reads the others' {
        $doomed = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName 'gone') -ErrorAction Stop }
        docker rm -f $doomed.Id *> $null
        $global:SandboxTestStatsErrors = @()
        $stats = @(Use-TestEndpoint $endpoint { $doomed, $idleBox | Get-SandboxStats -ErrorAction SilentlyContinue -ErrorVariable global:SandboxTestStatsErrors })
        $errors = @($global:SandboxTestStatsErrors)
        $stats.Name | Should -Be $idleBox.Name
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
        $errors[0].Exception.Message | Should -BeLike "*'$($doomed.Name)'*no longer exists*"
    }

    It '-Watch gives a fresh reading per sandbox every second and ends at once on Stop' {
        $watch = Start-StatsWatch { param($module, $a, $b) Import-Module $module; $a, $b | Get-SandboxStats -Watch } $busyBox, $idleBox
        try {
            Wait-Until { $watch.Output.Count -ge 6 } -TimeoutSec 20 | Should -BeTrue
            $readings = Get-Taken $watch.Output
            ($readings | Group-Object Id | ForEach-Object Count | Measure-Object -Minimum).Minimum | Should -BeGreaterOrEqual 2
            $busyTimes = @($readings | Where-Object Id -EQ $busyBox.Id | ForEach-Object Time)
            $busyTimes[1] | Should -BeGreaterThan $busyTimes[0]
            ($readings | Where-Object Id -EQ $busyBox.Id | Select-Object -Last 1).CpuPercent | Should -BeGreaterThan 5
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $watch.Shell.Stop()
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 1
            $watch.Running.IsCompleted | Should -BeTrue
        } finally { $watch.Shell.Dispose() }
    }

    It '-Watch says when a sandbox goes and keeps reading the others' {
        $doomed = Use-TestEndpoint $endpoint { New-Sandbox -DockerHost $DockerHost -Name (New-TestName 'watchgone') -ErrorAction Stop }
        $watch = Start-StatsWatch { param($module, $a, $b) Import-Module $module; $a, $b | Get-SandboxStats -Watch } $doomed, $idleBox
        try {
            Wait-Until { @(Get-Taken $watch.Output | Where-Object Id -EQ $doomed.Id).Count -ge 1 } -TimeoutSec 20 | Should -BeTrue
            docker rm -f $doomed.Id *> $null
            Wait-Until { $watch.Shell.Streams.Error.Count -ge 1 } -TimeoutSec 10 | Should -BeTrue
            $watch.Shell.Streams.Error[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotFound*'
            $watch.Shell.Streams.Error[0].Exception.Message | Should -BeLike "*'$($doomed.Name)'*"
            $before = @(Get-Taken $watch.Output | Where-Object Id -EQ $idleBox.Id).Count
            Wait-Until { @(Get-Taken $watch.Output | Where-Object Id -EQ $idleBox.Id).Count -ge $before + 2 } -TimeoutSec 10 | Should -BeTrue
            $watch.Running.IsCompleted | Should -BeFalse
        } finally { $watch.Shell.Stop(); $watch.Shell.Dispose() }
    }
}

Describe 'Get-SandboxStats view' {
    It 'fits 80 columns' {
        $box = New-Sandbox -Name (New-TestName 'a-rather-long-name') -ErrorAction Stop
        $lines = @(($box | Get-SandboxStats | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() })
        $lines | Where-Object { $_.Length -gt 80 } | Should -BeNullOrEmpty
        $lines -match '^Name\s+CPU%\s+Memory\s+Mem%\s+Pids\s+Net rx/tx\s+Block r/w$' | Should -Not -BeNullOrEmpty
        $lines -match ([regex]::Escape($box.Name.Substring(0, 15))) | Should -Not -BeNullOrEmpty
        $lines -match '/1GB' | Should -Not -BeNullOrEmpty
    }

    It 'gives SandboxNotRunning for a sandbox that is not running' {
        $box = New-Sandbox -Name (New-TestName 'running') -ErrorAction Stop
        # Sandboxes remove themselves when they stop: a created container with the module's label stands for one.
        $stopped = docker create --label io.sandbox.managed=true --name (New-TestName 'stopped') (Get-TestImage) true
        $errors = @()
        Get-SandboxStats -Id $stopped -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'SandboxNotRunning*'
        $box | Get-SandboxStats | Should -Not -BeNullOrEmpty
    }
}

Describe 'Get-SandboxStats of a cluster sandbox' -Skip:(-not $env:SANDBOX_TEST_SWARM_MANAGER -and $env:CI -ne 'true') {
    BeforeAll {
        if (-not $env:SANDBOX_TEST_SWARM_MANAGER) { throw 'CI is true but SANDBOX_TEST_SWARM_MANAGER is not set.' }
        $manager = $env:SANDBOX_TEST_SWARM_MANAGER
        $swarmEnvironment = @{ DOCKER_HOST = $null; DOCKER_CONTEXT = $null; DOCKER_TLS_VERIFY = '1'; SANDBOX_CLUSTER = $null; SANDBOX_CLUSTER_NODES = $null
            DOCKER_CERT_PATH = $(if ($env:SANDBOX_TEST_SWARM_CERT_PATH) { $env:SANDBOX_TEST_SWARM_CERT_PATH } else { Get-TestTlsCertPath -Kind Client }) }
        $clusterBox = Use-TestEnvironment $swarmEnvironment { New-Sandbox -Cluster $manager -Name (New-TestName 'cluster') -Memory 128MB -Timeout 120 -ErrorAction Stop }
    }

    AfterAll {
        if ($clusterBox) { Use-TestEnvironment $swarmEnvironment { $clusterBox | Stop-Sandbox -ErrorAction SilentlyContinue } }
        # Whatever a failure left: the services of this file's sandboxes, through node1 (the manager).
        $left = @(docker -H unix:///run/sandbox-swarm/node1/docker.sock service ls -q --filter "name=$(Get-TestPrefix)" 2>$null | Where-Object { $_ })
        if ($left.Count) { docker -H unix:///run/sandbox-swarm/node1/docker.sock service rm @left *> $null }
    }

    It 'reads it on its node''s engine, by object and by -Name on the cluster' {
        $stats = Use-TestEnvironment $swarmEnvironment { $clusterBox | Get-SandboxStats -ErrorAction Stop }
        $stats.Id | Should -Be $clusterBox.Id
        $stats.Node | Should -Be $clusterBox.Node
        $stats.DockerHost | Should -Be $clusterBox.DockerHost
        $stats.MemoryLimitBytes | Should -Be 128MB
        $stats.Pids | Should -BeGreaterOrEqual 1
        $byName = Use-TestEnvironment $swarmEnvironment { Get-SandboxStats -Cluster $manager -Name $clusterBox.Name -ErrorAction Stop }
        $byName.Id | Should -Be $clusterBox.Id
    }
}
