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
    )
    VariablesToExport      = @()
    AliasesToExport        = @()
    PrivateData            = @{
        PSData = @{
            Tags         = @('Docker', 'Sandbox', 'Container', 'Isolation', 'CodeExecution', 'PSEdition_Core', 'PSEdition_Desktop', 'Linux', 'Windows', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First release: New-Sandbox, Invoke-SandboxCommand, Copy-SandboxItem, Get-Sandbox, Stop-Sandbox, Use-Sandbox on the local engine.'
        }
    }
}
