using System;
using System.Management.Automation;
using Sandbox.Files;

namespace Sandbox.Commands
{
    static class CopyProgressView
    {
        public static void Show(Cmdlet cmdlet, int id, string activity, TransferProgress p)
        {
            var record = new ProgressRecord(id, activity, $"{Units.FormatBytes(p.BytesDone)}{(p.BytesTotal >= 0 ? " of " + Units.FormatBytes(p.BytesTotal) : "")}, {p.FilesDone} files")
            {
                PercentComplete = p.BytesTotal > 0 ? (int)Math.Min(100, p.BytesDone * 100 / p.BytesTotal) : -1,
                CurrentOperation = p.CurrentPath,
            };
            cmdlet.WriteProgress(record);
        }

        public static void Complete(Cmdlet cmdlet, int id, string activity) =>
            cmdlet.WriteProgress(new ProgressRecord(id, activity, "Done") { RecordType = ProgressRecordType.Completed });
    }
}
