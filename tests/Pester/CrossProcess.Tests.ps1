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
            if (-not $child.HasExited) { $child.Kill() }
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
}
