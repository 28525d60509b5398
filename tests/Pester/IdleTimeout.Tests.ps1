#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
}

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'idle'
    Assert-TestEndpoint -Name Local, Ssh

    function Wait-Gone([string] $Id, [datetime] $Deadline) {
        # When the container was first seen gone (UTC), or $null when it outlived the deadline.
        while ([datetime]::UtcNow -lt $Deadline) {
            if (-not (Test-ContainerExists $Id)) { return [datetime]::UtcNow }
            Start-Sleep -Milliseconds 50
        }
        $null
    }

    function Read-ChildReady([string] $Path) {
        $id, $text = Get-Content -LiteralPath $Path
        $id, [datetime]::Parse($text, [cultureinfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind).ToUniversalTime()
    }
}

AfterAll {
    Complete-SandboxTest
}

Describe 'New-Sandbox -IdleTimeout on <Name>' -ForEach (Get-TestEndpoints -Name Local, Ssh) {
    BeforeAll {
        $endpoint = $_
        $made = [System.Collections.Generic.List[string]]::new()
        function New-Idle([int] $Timeout, [int] $IdleTimeout) {
            $sandbox = Use-TestEndpoint $endpoint {
                New-Sandbox -DockerHost $DockerHost -Name (New-TestName ('idle-' + $endpoint.Name.ToLowerInvariant())) -Timeout $Timeout -IdleTimeout $IdleTimeout -ErrorAction Stop
            }
            $made.Add($sandbox.Id)
            $sandbox
        }
    }

    AfterAll {
        foreach ($id in $made) { docker rm -f $id *> $null }
    }

    It 'shows both deadlines; every use pushes it to now + idle; left idle it is removed within 2 s of that' {
        $sandbox = New-Idle -Timeout 60 -IdleTimeout 3
        $created = Get-ContainerCreated $sandbox.Id
        $sandbox.IdleTimeoutSec | Should -Be 3
        [math]::Abs(($sandbox.HardExpiresAt - $created.AddSeconds(60)).TotalSeconds) | Should -BeLessThan 0.01
        ($sandbox.ExpiresAt - $created.AddSeconds(3)).TotalSeconds | Should -BeGreaterOrEqual 0
        ($sandbox.ExpiresAt - $created.AddSeconds(3)).TotalSeconds | Should -BeLessThan 1
        (Get-ContainerLabel $sandbox.Id 'io.sandbox.idle-timeout') | Should -Be '3'

        # Used every second for 6 s: it outlives its first idle deadline twice over.
        $until = [datetime]::UtcNow.AddSeconds(6)
        while ([datetime]::UtcNow -lt $until) {
            Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'true' }
            $lastUse = [datetime]::UtcNow
            Start-Sleep -Milliseconds 1000
        }
        Test-ContainerExists $sandbox.Id | Should -BeTrue
        ($sandbox.ExpiresAt - $lastUse.AddSeconds(3)).TotalSeconds | Should -BeGreaterOrEqual -0.3
        ($sandbox.ExpiresAt - $lastUse.AddSeconds(3)).TotalSeconds | Should -BeLessThan 1
        # Another object (from the engine and the file) shows the pushed deadline.
        $found = Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Id $sandbox.Id }
        [math]::Abs(($found.ExpiresAt - $sandbox.ExpiresAt).TotalSeconds) | Should -BeLessOrEqual 1

        $idleDeadline = $sandbox.ExpiresAt
        $gone = Wait-Gone $sandbox.Id $idleDeadline.AddSeconds(5)
        $gone | Should -Not -BeNullOrEmpty
        ($gone - $idleDeadline).TotalSeconds | Should -BeGreaterOrEqual 0
        ($gone - $idleDeadline).TotalSeconds | Should -BeLessThan 2
        Write-Host ("    {0}: removed {1:+0.000} s after its idle deadline" -f $endpoint.Name, ($gone - $idleDeadline).TotalSeconds)
    }

    It 'commands in a session are uses too' {
        $sandbox = New-Idle -Timeout 60 -IdleTimeout 3
        $session = Use-TestEndpoint $endpoint { $sandbox | New-SandboxSession }
        try {
            $firstDeadline = $sandbox.ExpiresAt
            $until = $firstDeadline.AddSeconds(3)
            while ([datetime]::UtcNow -lt $until) {
                Use-TestEndpoint $endpoint { $session | Invoke-SandboxCommand 'true' }
                Start-Sleep -Milliseconds 1000
            }
            Test-ContainerExists $sandbox.Id | Should -BeTrue -Because 'each session command pushed its idle deadline'
            Use-TestEndpoint $endpoint { Get-Sandbox -DockerHost $DockerHost -Id $sandbox.Id } | ForEach-Object ExpiresAt |
                Should -BeGreaterThan $firstDeadline.AddSeconds(3)
        }
        finally { $session | Remove-SandboxSession -ErrorAction SilentlyContinue }
    }

    It 'does not cut a command that runs longer than the idle timeout' {
        $sandbox = New-Idle -Timeout 60 -IdleTimeout 2
        Use-TestEndpoint $endpoint { $sandbox | Invoke-SandboxCommand 'sleep 5; echo done' } | Should -Be 'done'
        Test-ContainerExists $sandbox.Id | Should -BeTrue
        ($sandbox.ExpiresAt - [datetime]::UtcNow).TotalSeconds | Should -BeGreaterThan 1
    }

    It 'never pushes past the hard -Timeout' {
        $sandbox = New-Idle -Timeout 5 -IdleTimeout 4
        $hard = $sandbox.HardExpiresAt
        $file = Set-Content -LiteralPath (Join-Path $TestDrive 'used.txt') -Value 'used' -PassThru | ForEach-Object { Join-Path $TestDrive 'used.txt' }
        $until = $hard.AddSeconds(-0.7)
        while ([datetime]::UtcNow -lt $until) {
            Use-TestEndpoint $endpoint { $sandbox | Copy-SandboxItem -LiteralPath $file -Destination '/tmp/used.txt' -ToSandbox }
            Start-Sleep -Milliseconds 400
        }
        $sandbox.ExpiresAt | Should -Be $hard
        $gone = Wait-Gone $sandbox.Id $hard.AddSeconds(5)
        $gone | Should -Not -BeNullOrEmpty
        ($gone - $hard).TotalSeconds | Should -BeLessThan 1.5
    }
}

Describe 'New-Sandbox -IdleTimeout across processes' {
    It 'an idle sandbox whose maker exited is removed within 2 s of its idle deadline with no PowerShell alive' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'alone')
        $ready = Join-Path $work 'ready.txt'
        $name = New-TestName 'idle-alone'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$sandbox = New-Sandbox -Name '$name' -Image `$env:SANDBOX_IMAGE -Timeout 120 -IdleTimeout 3
Start-Sleep -Seconds 1
`$sandbox | Invoke-SandboxCommand 'true'
Start-Sleep -Milliseconds 300
Set-Content -LiteralPath '$ready.tmp' -Value `$sandbox.Id, `$sandbox.ExpiresAt.ToString('o')
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
"@
        Remove-Module Sandbox -Force
        try {
            Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 | Should -BeTrue -Because (Get-ChildOutput $work | Out-String)
            $id, $idleDeadline = Read-ChildReady $ready
            Wait-Until { $child.HasExited } -TimeoutSec 10 | Should -BeTrue
            # The push of the last use reached the file that PID 1 reads: it outlived creation + 3 s.
            $gone = Wait-Gone $id $idleDeadline.AddSeconds(5)
            $gone | Should -Not -BeNullOrEmpty
            ($gone - $idleDeadline).TotalSeconds | Should -BeGreaterOrEqual 0
            ($gone - $idleDeadline).TotalSeconds | Should -BeLessThan 2
            Write-Host ("    PID 1 alone: removed {0:+0.000} s after its idle deadline" -f ($gone - $idleDeadline).TotalSeconds)
        }
        finally {
            if (-not $child.HasExited) { $child.Kill($true) }
            if ($id) { docker rm -f $id *> $null }
            Import-Module (Get-SandboxModulePath) -Force -Global
        }
    }

    It 'a use in another process pushes the deadline that this process keeps' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'other')
        $ready = Join-Path $work 'ready.txt'
        $sandbox = New-Sandbox -Name (New-TestName 'idle-other') -Timeout 120 -IdleTimeout 10
        # The use comes at least 2.5 s after creation, so that its push lands past the first deadline's whole second
        # however fast the child starts.
        $useAfter = [datetime]::UtcNow.AddSeconds(2.5).ToString('o')
        try {
            $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$found = Get-Sandbox -Id '$($sandbox.Id)'
while ([datetime]::UtcNow -lt [datetime]::Parse('$useAfter').ToUniversalTime()) { Start-Sleep -Milliseconds 50 }
`$found | Invoke-SandboxCommand 'true'
Start-Sleep -Milliseconds 300
Set-Content -LiteralPath '$ready.tmp' -Value `$found.Id, `$found.ExpiresAt.ToString('o')
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
"@
            Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 60 | Should -BeTrue -Because (Get-ChildOutput $work | Out-String)
            $null, $pushed = Read-ChildReady $ready
            $pushed | Should -BeGreaterThan $sandbox.ExpiresAt.AddSeconds(1)
            # This process's cleanup engine knows the first deadline; at it, it reads the file and keeps to the push.
            $gone = Wait-Gone $sandbox.Id $pushed.AddSeconds(5)
            $gone | Should -Not -BeNullOrEmpty
            ($gone - $pushed).TotalSeconds | Should -BeGreaterOrEqual 0
            ($gone - $pushed).TotalSeconds | Should -BeLessThan 2
        }
        finally {
            if ($child -and -not $child.HasExited) { $child.Kill($true) }
            docker rm -f $sandbox.Id *> $null
        }
    }
}
