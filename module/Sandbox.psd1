@{
    RootModule             = 'Sandbox.psm1'
    ModuleVersion          = '0.1.0'
    GUID                   = '5d0f3c8e-2a7b-4a51-9f3e-6c1b7d2e8a94'
    Author                 = 'Sandbox contributors'
    CompanyName            = 'Sandbox contributors'
    Copyright              = '(c) Sandbox contributors. MIT License.'
    Description            = 'Run code of any language in throwaway Docker containers, locally or on remote engines, with deadlines that always hold, resource limits, file copy, port publishing and lifecycle hooks.'
    PowerShellVersion      = '5.1'
    CompatiblePSEditions   = @('Desktop', 'Core')
    FormatsToProcess       = @('Sandbox.Format.ps1xml')
    FunctionsToExport      = @()
    CmdletsToExport        = @(
        'New-Sandbox'
        'Invoke-SandboxCommand'
        'Copy-SandboxItem'
        'Get-Sandbox'
        'Stop-Sandbox'
        'Set-Sandbox'
        'Use-Sandbox'
        'Enter-Sandbox'
        'Start-SandboxPool'
        'Get-SandboxPool'
        'Stop-SandboxPool'
        'Invoke-SandboxCode'
        'Get-SandboxLanguage'
        'Register-SandboxLanguage'
        'New-SandboxSession'
        'Get-SandboxSession'
        'Remove-SandboxSession'
        'Get-SandboxStats'
        'Get-SandboxEvent'
        'Save-Sandbox'
        'Get-SandboxSnapshot'
        'Remove-SandboxSnapshot'
        'Suspend-Sandbox'
        'Resume-Sandbox'
    )
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('Docker', 'Sandbox', 'Container', 'Isolation', 'CodeExecution', 'SSH', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'Windows', 'MacOS')
            LicenseUri   = 'https://github.com/sandbox-ps/Sandbox/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/sandbox-ps/Sandbox'
            ReleaseNotes = @'
0.1.0, first release.
- New-Sandbox, Invoke-SandboxCommand, Copy-SandboxItem, Get-Sandbox, Set-Sandbox, Stop-Sandbox and Use-Sandbox.
- Local engines and remote ones over ssh:// (host keys checked against known_hosts) or tcp:// with TLS; Docker contexts.
- Deadlines that hold without PowerShell: enforced inside the container, by the cleanup engine and by sweeps.
- Resource limits and security defaults (capabilities dropped, no-new-privileges, pids limit); ports published on
  127.0.0.1 and tunnelled over SSH for remote engines; file copy in and out with path checks.
- Help (Get-Help, about_Sandbox), tab completion, table views, -AsJob and progress bars.
- PowerShell 7: the dependencies load into the module's own AssemblyLoadContext, so other modules' versions of the
  same assemblies do not conflict. Windows PowerShell 5.1 uses the netstandard2.0 build.
'@
        }
    }
}
