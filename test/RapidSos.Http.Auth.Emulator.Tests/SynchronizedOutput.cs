namespace RapidSos.Http.Auth.Emulator.Tests;

/// <summary>A text writer the host writes to from its own tasks while the test reads what it wrote so far.</summary>
public sealed class SynchronizedOutput : IDisposable
{
    private readonly StringWriter _inner = new();

    public SynchronizedOutput() => Writer = TextWriter.Synchronized(_inner);

    public TextWriter Writer { get; }

    public string Text
    {
        get
        {
            // TextWriter.Synchronized locks the writer itself around each call.
            lock (Writer)
            {
                return _inner.ToString();
            }
        }
    }

    public void Dispose()
    {
        Writer.Dispose();
        _inner.Dispose();
    }
}
