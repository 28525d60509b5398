#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.7.1' }

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Initialize-SandboxTest -Area 'use'
}

AfterAll {
    Complete-SandboxTest
}

Describe 'Use-Sandbox' {

    It 'gives the block the sandbox as $_ and $args[0] and returns its output' {
        $name = New-TestName 'use'
        $output = Use-Sandbox -Name $name -ScriptBlock {
            $_.Name
            $args[0].Id
            $_ | Invoke-SandboxCommand 'echo inside'
        }
        $output | Should -HaveCount 3
        $output[0] | Should -Be $name
        $output[1] | Should -Match '^[0-9a-f]{64}$'
        $output[2] | Should -Be 'inside'
    }

    It 'removes the sandbox afterwards' {
        $name = New-TestName 'use'
        $id = Use-Sandbox -Name $name { $_.Id }
        $id | Should -Not -BeNullOrEmpty
        Test-ContainerExists $id | Should -BeFalse
        Test-ContainerExists $name | Should -BeFalse
    }

    It 'removes the sandbox even when the block throws, and the throw propagates' {
        $name = New-TestName 'throws'
        $global:SandboxTestUsedId = $null
        { Use-Sandbox -Name $name { $global:SandboxTestUsedId = $_.Id; throw 'boom from the block' } } |
            Should -Throw '*boom from the block*'
        $global:SandboxTestUsedId | Should -Not -BeNullOrEmpty
        Test-ContainerExists $global:SandboxTestUsedId | Should -BeFalse
    }

    It 'takes the New-Sandbox parameters' {
        $code = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'code')
        Set-Content -LiteralPath (Join-Path $code 'main.sh') -Value 'echo "$GREETING from main.sh"'
        $output = Use-Sandbox -Path $code -Environment @{ GREETING = 'hello' } -Memory 256MB -Timeout 60 -Name (New-TestName 'params') {
            $_ | Invoke-SandboxCommand 'sh main.sh'
            (Get-ContainerInspect $_.Id).HostConfig.Memory
            $_.TimeoutSec
        }
        $output | Should -Be 'hello from main.sh', 268435456, 60
    }

    It 'does not run the block when the sandbox cannot be made' {
        $global:SandboxTestBlockRan = $false
        $missing = Join-Path $TestDrive 'no-such-folder'
        { Use-Sandbox -Path $missing -Name (New-TestName 'nopath') { $global:SandboxTestBlockRan = $true } -ErrorAction Stop } |
            Should -Throw -ErrorId 'PathNotFound*'
        $global:SandboxTestBlockRan | Should -BeFalse
    }

    It 'runs -OnKill when the block is done' {
        $global:SandboxTestUseKilled = $null
        $id = Use-Sandbox -Name (New-TestName 'onkill') -OnKill { $global:SandboxTestUseKilled = $_.Id } { $_.Id }
        $global:SandboxTestUseKilled | Should -Be $id
    }
}
