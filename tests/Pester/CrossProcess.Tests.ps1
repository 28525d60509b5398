#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'xproc'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Sandboxes across PowerShell processes' {

    It 'lists, uses and stops here a sandbox that another pwsh made' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'made-there')
        $name = New-TestName 'there'
        $project = New-TestProjectId 'there'
        $ready = Join-Path $work 'ready.txt'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
`$sandbox = New-Sandbox -Name '$name' -ProjectId '$project' -Path '$work' -Timeout 120
Set-Content -LiteralPath '$ready.tmp' -Value `$PID, `$sandbox.Id
Move-Item -LiteralPath '$ready.tmp' -Destination '$ready'
Start-Sleep -Seconds 120
"@
        try {
            Wait-Until { Test-Path -LiteralPath $ready } -TimeoutSec 30 |
                Should -BeTrue -Because "the child pwsh should have made the sandbox: $(Get-ChildOutput $work)"
            $childPid, $id = Get-Content -LiteralPath $ready
            $childPid | Should -Not -Be $PID

            $found = Get-Sandbox -Name $name
            $found.Id | Should -Be $id
            $found.ProjectId | Should -Be $project
            $found.Labels['io.sandbox.owner'] | Should -BeLike "*:$childPid"
            (Get-Sandbox -ProjectId $project).Id | Should -Be $id

            Get-Sandbox -ProjectId $project | Invoke-SandboxCommand 'echo hello from here' | Should -Be 'hello from here'

            Stop-Sandbox -Name $name
            Test-ContainerExists $id | Should -BeFalse
        }
        finally {
            if ($childPid) { Stop-Process -Id $childPid -Force -ErrorAction SilentlyContinue }
            if (-not $child.HasExited) { $child.Kill($true) }
        }
    }

    It 'lets another pwsh list and stop a sandbox made here' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'made-here')
        $sandbox = New-Sandbox -Name (New-TestName 'here')
        $report = Join-Path $work 'found.json'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
Get-Sandbox -Name '$($sandbox.Name)' | Select-Object Id, Name | ConvertTo-Json | Set-Content -LiteralPath '$report'
Stop-Sandbox -Name '$($sandbox.Name)'
"@
        $child.WaitForExit(60000) | Should -BeTrue
        $child.ExitCode | Should -Be 0 -Because (Get-ChildOutput $work)
        $found = Get-Content -LiteralPath $report -Raw | ConvertFrom-Json
        $found.Id | Should -Be $sandbox.Id
        Test-ContainerExists $sandbox.Id | Should -BeFalse
    }

    It 'keeps a sandbox running after the pwsh that made it exits, until its deadline' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'outlives')
        $name = New-TestName 'outlives'
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
New-Sandbox -Name '$name' -Timeout 120 | Out-Null
"@
        $child.WaitForExit(60000) | Should -BeTrue
        $child.ExitCode | Should -Be 0 -Because (Get-ChildOutput $work)

        $found = Get-Sandbox -Name $name
        $found.State | Should -Be 'running'
        $found | Invoke-SandboxCommand 'echo still here' | Should -Be 'still here'
        $found | Stop-Sandbox
    }

    It 'keeps a sandbox made here alive past its first deadline when another pwsh extended it' {
        $work = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'extended-there')
        # 15 s: time enough for a child pwsh to start on a busy machine and move the deadline before it.
        $sandbox = New-Sandbox -Name (New-TestName 'extthere') -Timeout 15
        $created = Get-ContainerCreated $sandbox.Id
        $child = Start-ChildPwsh -WorkFolder $work -Script @"
`$ErrorActionPreference = 'Stop'
Import-Module `$env:SANDBOX_MODULE_PATH
Set-Sandbox -Name '$($sandbox.Name)' -Timeout 120
"@
        try {
            $child.WaitForExit(60000) | Should -BeTrue
            $child.ExitCode | Should -Be 0 -Because (Get-ChildOutput $work)
            [datetime]::UtcNow | Should -BeLessThan $created.AddSeconds(15) -Because 'the other pwsh must have moved the deadline before the first one passed'

            # This process's cleanup engine tracked the first deadline; it must see the moved one and leave the sandbox be.
            Wait-Until { -not (Test-ContainerExists $sandbox.Id) } -Deadline $created.AddSeconds(18) |
                Should -BeFalse -Because 'another pwsh extended it to 120 s'
            (Get-Sandbox -Name $sandbox.Name).ExpiresAt | Should -BeGreaterThan $created.AddSeconds(100)
        }
        finally {
            Stop-Sandbox -Name $sandbox.Name -ErrorAction SilentlyContinue
        }
    }
}
