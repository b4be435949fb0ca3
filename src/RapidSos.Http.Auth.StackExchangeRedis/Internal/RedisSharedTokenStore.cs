using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Internal;

/// <summary>
/// The fleet's shared token store on Redis: GET, SET with an expiry, and three small Lua scripts (compare-and-delete,
/// take-or-extend a lease, release it), each write publishing a change notification in the same round trip; one
/// pub/sub subscription per store wakes the local waiters of <see cref="WaitForChangeAsync"/>.
/// </summary>
/// <remarks>
/// <para>
/// Every key is <see cref="RapidSosRedisTokenCacheOptions.KeyPrefix"/> followed by the library's key, and each script
/// touches only its one key, passed in <c>KEYS</c>: the library's keys carry a hash tag per credential set, so the
/// store works on Redis Cluster. Notifications go to the channel <c>{KeyPrefix}v1:changes</c> (after the connection's
/// own <c>channelPrefix</c>, if it has one), whose messages are the library's (unprefixed) keys. Values are opaque bytes, never interpreted or logged.
/// </para>
/// <para>
/// Nothing waits on Redis longer than <see cref="OperationTimeout"/>: not the first connection (started by the first
/// call, off the caller's thread; a call that finds it still connecting fails at its timeout), not a command (a Redis
/// that is down fails it at once, <see cref="BacklogPolicy.FailFast"/>; a stalled one times out). A failed connection
/// attempt is tried again by a later call, at most once a <see cref="ConnectRetryInterval"/>; a connection that is
/// lost later reconnects, and resubscribes, by itself.
/// </para>
/// </remarks>
internal sealed class RedisSharedTokenStore : IRapidSosSharedTokenStore, IDisposable, IAsyncDisposable
{
    /// <summary>The largest value stored or read: a larger one in Redis is not the library's.</summary>
    internal const int MaxValueLength = 64 * 1024;

    /// <summary>How soon a failed connection attempt may be made again.</summary>
    internal static readonly TimeSpan ConnectRetryInterval = TimeSpan.FromSeconds(1);

    // KEYS[1] key; ARGV[1] value, ARGV[2] time to live (ms), ARGV[3] channel, ARGV[4] message.
    private const string SetScript =
        "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) " +
        "redis.call('PUBLISH', ARGV[3], ARGV[4]) " +
        "return 1";

    // KEYS[1] key; ARGV[1] expected value (or owner), ARGV[2] channel, ARGV[3] message. Lua compares strings byte for byte.
    private const string DeleteIfEqualScript =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then " +
        "redis.call('DEL', KEYS[1]) " +
        "redis.call('PUBLISH', ARGV[2], ARGV[3]) " +
        "return 1 " +
        "end " +
        "return 0";

    // KEYS[1] lease key; ARGV[1] owner, ARGV[2] lease (ms). Extends the owner's lease, or takes a free one.
    private const string AcquireLeaseScript =
        "local holder = redis.call('GET', KEYS[1]) " +
        "if holder == ARGV[1] then " +
        "redis.call('PEXPIRE', KEYS[1], ARGV[2]) " +
        "return 1 " +
        "end " +
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then " +
        "return 1 " +
        "end " +
        "return 0";

    private readonly string? _configuration;
    private readonly Func<Task<IConnectionMultiplexer>>? _factory;
    private readonly string _keyPrefix;
    private readonly RedisChannel _channel;
    private readonly string _channelName;
    private readonly TimeProvider _time;
    private readonly ChangeWaiters _waiters;
    private readonly Action<RedisChannel, RedisValue> _onMessage;
    private readonly object _connectGate = new();
    private Task<IConnectionMultiplexer>? _connecting;

    // The channel as Redis names it: an application's connection may have a ChannelPrefix, which StackExchange.Redis
    // puts before the channel of a subscription but which a script's PUBLISH must spell out. Set before the
    // connection task completes, so read after it.
    private RedisValue _publishChannel;
    private long _connectStartedAt;
    private bool _disposed;

    /// <summary>Creates a store; it connects on first use.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="time">The clock of timeouts and retries; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public RedisSharedTokenStore(RapidSosRedisTokenCacheOptions options, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _configuration = options.Configuration;
        _factory = options.ConnectionMultiplexerFactory;
        _keyPrefix = options.KeyPrefix;
        OperationTimeout = options.OperationTimeout;
        var channel = _keyPrefix + "v1:changes";
        _channel = RedisChannel.Literal(channel);
        _channelName = channel;
        _time = time ?? TimeProvider.System;
        _waiters = new ChangeWaiters(_time);
        _onMessage = OnMessage;
    }

    /// <inheritdoc />
    public TimeSpan OperationTimeout { get; }

    /// <summary>Whether the store opens (and so owns and disposes) its connection, rather than using the application's.</summary>
    private bool OwnsConnection => _factory is null;

    /// <inheritdoc />
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var redisKey = Key(key);
        return new(RunAsync(
            redisKey,
            static async (database, key) =>
            {
                try
                {
                    // Leased from a pool, so a large value that is not ours costs no allocation of ours.
                    using var lease = await database.StringGetLeaseAsync(key).ConfigureAwait(false);
                    return lease is null || lease.Length > MaxValueLength ? null : lease.Span.ToArray();
                }
                catch (RedisServerException ex) when (ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
                {
                    // A hash or a list under our key is not ours either: a miss, not a Redis that fails.
                    return null;
                }
            },
            cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask SetAsync(string key, byte[] value, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        var redisKey = Key(key);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > MaxValueLength)
        {
            throw new ArgumentException($"The value is {value.Length} bytes; the shared token store keeps at most {MaxValueLength}.", nameof(value));
        }

        var arguments = new RedisValue[] { value, Milliseconds(timeToLive, nameof(timeToLive)), RedisValue.Null, key };
        return SetCoreAsync(key, redisKey, arguments, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteIfEqualAsync(string key, byte[] expected, CancellationToken cancellationToken)
    {
        var redisKey = Key(key);
        ArgumentNullException.ThrowIfNull(expected);
        return new(CompareAndDeleteAsync(key, redisKey, [expected, RedisValue.Null, key], cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<bool> TryAcquireLeaseAsync(string key, string owner, TimeSpan lease, CancellationToken cancellationToken)
    {
        var redisKey = Key(key);
        ArgumentNullException.ThrowIfNull(owner);
        var arguments = new RedisValue[] { owner, Milliseconds(lease, nameof(lease)) };
        return new(RunAsync(
            (Key: redisKey, Arguments: arguments),
            static async (database, state) =>
                (long)await database.ScriptEvaluateAsync(AcquireLeaseScript, [state.Key], state.Arguments).ConfigureAwait(false) == 1,
            cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask<bool> ReleaseLeaseAsync(string key, string owner, CancellationToken cancellationToken)
    {
        var redisKey = Key(key);
        ArgumentNullException.ThrowIfNull(owner);
        return new(CompareAndDeleteAsync(key, redisKey, [owner, RedisValue.Null, key], cancellationToken));
    }

    /// <inheritdoc />
    public ValueTask WaitForChangeAsync(string key, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);

        // Registered first, then the subscription is made sure of (connecting, if no call has yet): a change
        // notified from now on completes this wait. With Redis down the wait simply runs to its timeout.
        var waiting = _waiters.Register(key, timeout, cancellationToken);
        _ = ConnectionAsync();
        return new(waiting);
    }

    /// <summary>Completes the local waiters, unsubscribes, and closes the connection if the store opened it.</summary>
    public void Dispose()
    {
        if (Stop() is not { } connecting)
        {
            return;
        }

        if (connecting.IsCompletedSuccessfully)
        {
            Release(connecting.Result);
        }
        else
        {
            ReleaseOnceConnected(connecting);
        }
    }

    /// <summary>Completes the local waiters, unsubscribes, and closes the connection if the store opened it.</summary>
    /// <returns>A task that completes when the connection is closed (at once when it is still connecting: it is closed once connected).</returns>
    public async ValueTask DisposeAsync()
    {
        if (Stop() is not { } connecting)
        {
            return;
        }

        if (!connecting.IsCompletedSuccessfully)
        {
            ReleaseOnceConnected(connecting);
            return;
        }

        var connection = connecting.Result;
        Unsubscribe(connection);
        if (OwnsConnection)
        {
            // Without waiting for pending commands: a stalled Redis would hold disposal for its timeout.
            await connection.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static long Milliseconds(TimeSpan duration, string parameterName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero, parameterName);
        return (long)Math.Ceiling(duration.TotalMilliseconds);
    }

    private static void Observe(Task task) =>
        task.ContinueWith(
            static t => _ = t.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private RedisKey Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _keyPrefix + key;
    }

    private async ValueTask SetCoreAsync(string key, RedisKey redisKey, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        await PublishingScriptAsync(SetScript, redisKey, arguments, channelArgument: 2, cancellationToken).ConfigureAwait(false);

        // The script published the change for the other instances (and, through Redis, for this one); waking the
        // local waiters here as well keeps this instance's waits independent of the subscription.
        _waiters.Notify(key);
    }

    private async Task<bool> CompareAndDeleteAsync(string key, RedisKey redisKey, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        var done = await PublishingScriptAsync(DeleteIfEqualScript, redisKey, arguments, channelArgument: 1, cancellationToken).ConfigureAwait(false);
        if (done)
        {
            _waiters.Notify(key);
        }

        return done;
    }

    /// <summary>Runs a script that publishes to the change channel, named in <paramref name="arguments"/> at <paramref name="channelArgument"/> once connected.</summary>
    private Task<bool> PublishingScriptAsync(string script, RedisKey redisKey, RedisValue[] arguments, int channelArgument, CancellationToken cancellationToken) =>
        RunAsync(
            (Store: this, Script: script, Key: redisKey, Arguments: arguments, ChannelArgument: channelArgument),
            static async (database, state) =>
            {
                state.Arguments[state.ChannelArgument] = state.Store._publishChannel;
                return (long)await database.ScriptEvaluateAsync(state.Script, [state.Key], state.Arguments).ConfigureAwait(false) == 1;
            },
            cancellationToken);

    /// <summary>Runs <paramref name="command"/> on the connection (connecting first if need be), all of it bounded by <see cref="OperationTimeout"/>.</summary>
    private async Task<TResult> RunAsync<TState, TResult>(TState state, Func<IDatabaseAsync, TState, Task<TResult>> command, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed), this);
        var work = ExecuteAsync(state, command);
        try
        {
            return await work.WaitAsync(OperationTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!work.IsCompleted)
        {
            // Abandoned: the command finishes (or fails) on its own, unobserved by anyone else.
            Observe(work);
            if (e is TimeoutException)
            {
                throw new TimeoutException(
                    $"Redis did not answer within {OperationTimeout.TotalMilliseconds:0.###} ms ({nameof(RapidSosRedisTokenCacheOptions)}.{nameof(RapidSosRedisTokenCacheOptions.OperationTimeout)}).",
                    e);
            }

            throw;
        }
    }

    private async Task<TResult> ExecuteAsync<TState, TResult>(TState state, Func<IDatabaseAsync, TState, Task<TResult>> command)
    {
        var connection = await ConnectionAsync().ConfigureAwait(false);
        return await command(connection.GetDatabase(), state).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts connecting now and waits for it, at most <paramref name="timeout"/>: at start-up, so that the first token
    /// requests of a new instance find the connection made and are shared (a first connection in a fresh process,
    /// handshake and JIT included, takes longer than the 250 ms a lookup may wait). Never throws: a Redis that is
    /// down or slow at start is no error, the connection keeps trying by itself.
    /// </summary>
    internal async Task WarmUpAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            if (Volatile.Read(ref _disposed))
            {
                return;
            }

            await ConnectionAsync().WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or RedisException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    /// <summary>
    /// The connection, or the attempt to make it: started by the first caller, and again by a caller that finds the
    /// last attempt failed at least <see cref="ConnectRetryInterval"/> ago (sooner, it gets that failure).
    /// </summary>
    private Task<IConnectionMultiplexer> ConnectionAsync()
    {
        var connecting = Volatile.Read(ref _connecting);
        if (connecting is not null && !connecting.IsFaulted && !connecting.IsCanceled)
        {
            return connecting;
        }

        lock (_connectGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            connecting = _connecting;
            if (connecting is null
                || ((connecting.IsFaulted || connecting.IsCanceled) && _time.GetElapsedTime(_connectStartedAt) >= ConnectRetryInterval))
            {
                _connectStartedAt = _time.GetTimestamp();

                // Off the caller's thread: a factory, or a DNS lookup, that blocks must not block a token request.
                connecting = Task.Run(ConnectAsync);
                Observe(connecting);
                Volatile.Write(ref _connecting, connecting);
            }

            return connecting;
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        IConnectionMultiplexer connection;
        if (_factory is not null)
        {
            const string Returned = $"{nameof(RapidSosRedisTokenCacheOptions)}.{nameof(RapidSosRedisTokenCacheOptions.ConnectionMultiplexerFactory)} returned null.";
            var creating = _factory() ?? throw new InvalidOperationException(Returned);
            connection = await creating.ConfigureAwait(false) ?? throw new InvalidOperationException(Returned);
        }
        else
        {
            var configuration = ConfigurationOptions.Parse(_configuration!);

            // Redis down at start is not an error: the connection keeps trying by itself. And a command sent while
            // it is down fails at once instead of waiting in the backlog (5 s by default) for it to come back.
            configuration.AbortOnConnectFail = false;
            configuration.BacklogPolicy = BacklogPolicy.FailFast;
            connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        }

        _publishChannel = ChannelPrefixOf(connection) + _channelName;
        Subscribe(connection);
        return connection;
    }

    private static string ChannelPrefixOf(IConnectionMultiplexer connection)
    {
        try
        {
            return (string?)ConfigurationOptions.Parse(connection.Configuration).ChannelPrefix ?? string.Empty;
        }
        catch (ArgumentException)
        {
            return string.Empty;
        }
    }

    private void Subscribe(IConnectionMultiplexer connection)
    {
        // StackExchange.Redis records the subscription before it sends SUBSCRIBE, and subscribes again every time
        // the connection is re-established: so one call is enough, even with Redis down now.
        try
        {
            Observe(connection.GetSubscriber().SubscribeAsync(_channel, _onMessage));
        }
        catch (RedisException)
        {
        }
    }

    private void Unsubscribe(IConnectionMultiplexer connection)
    {
        // The application's connection outlives the store: take this store's handler off it. Fire and forget: the
        // handler is removed at once, and a Redis that is down must not hold disposal.
        try
        {
            Observe(connection.GetSubscriber().UnsubscribeAsync(_channel, _onMessage, CommandFlags.FireAndForget));
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        if (!message.IsNullOrEmpty)
        {
            _waiters.Notify((string)message!);
        }
    }

    /// <summary>Marks the store disposed and completes its waiters; returns the connection (attempt) to release, the first time only.</summary>
    private Task<IConnectionMultiplexer>? Stop()
    {
        lock (_connectGate)
        {
            if (_disposed)
            {
                return null;
            }

            Volatile.Write(ref _disposed, true);
        }

        _waiters.Dispose();
        return _connecting;
    }

    /// <summary>A connection made after the store was disposed is released as soon as it is made (a failed attempt has nothing to release).</summary>
    private void ReleaseOnceConnected(Task<IConnectionMultiplexer> connecting) =>
        connecting.ContinueWith(
            static (task, state) => ((RedisSharedTokenStore)state!).Release(task.Result),
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);

    private void Release(IConnectionMultiplexer connection)
    {
        Unsubscribe(connection);
        if (OwnsConnection)
        {
            connection.Close(allowCommandsToComplete: false);
            connection.Dispose();
        }
    }
}
