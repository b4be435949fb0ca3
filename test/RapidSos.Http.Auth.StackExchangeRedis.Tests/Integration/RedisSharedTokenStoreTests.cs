using RapidSos.Http.Auth.StackExchangeRedis.Internal;
using RapidSos.Http.Auth.StackExchangeRedis.Tests.Helpers;
using StackExchange.Redis;

namespace RapidSos.Http.Auth.StackExchangeRedis.Tests.Integration;

/// <summary>Each primitive of the Redis store against a real redis-server: what it stores, under which key, for how long.</summary>
public sealed class RedisSharedTokenStoreTests
{
    private const string Prefix = "primitives:";
    private static readonly byte[] s_value = [0x00, 0xff, 0x7f, 0x80, (byte)'\r', (byte)'\n', 0x01];
    private static readonly TimeSpan s_minute = TimeSpan.FromMinutes(1);

    private RedisServer _server = null!;
    private ConnectionMultiplexer _raw = null!;
    private RedisSharedTokenStore _store = null!;

    [OneTimeSetUp]
    public async Task StartRedis()
    {
        _server = await RedisServer.StartAsync();
        _raw = await TestStores.RawAsync(_server);
        _store = TestStores.Create(_server, Prefix);
    }

    [OneTimeTearDown]
    public async Task StopRedis()
    {
        await _store.DisposeAsync();
        await _raw.DisposeAsync();
        await _server.DisposeAsync();
    }

    private IDatabase Raw => _raw.GetDatabase();

    [Test]
    public void OperationTimeout_IsTheOption()
    {
        using var store = new RedisSharedTokenStore(new RapidSosRedisTokenCacheOptions { Configuration = "unused", OperationTimeout = TimeSpan.FromMilliseconds(1234) });

        Assert.That(store.OperationTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(1234)));
    }

    [Test]
    public async Task GetAsync_NothingStored_ReturnsNull()
    {
        Assert.That(await _store.GetAsync(TestStores.NewKey(), CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task GetAsync_AHashUnderTheKey_IsAMissNotAnError()
    {
        var key = TestStores.NewKey();
        await Raw.HashSetAsync(Prefix + key, "field", "someone else's");

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task SetAsync_ThenGetAsync_ReturnsTheBytesUnchanged()
    {
        var key = TestStores.NewKey();

        await _store.SetAsync(key, s_value, s_minute, CancellationToken.None);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
    }

    [Test]
    public async Task SetAsync_EmptyValue_ReadsBackEmpty()
    {
        var key = TestStores.NewKey();

        await _store.SetAsync(key, [], s_minute, CancellationToken.None);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.Empty);
    }

    [Test]
    public async Task SetAsync_ExistingValue_IsReplaced()
    {
        var key = TestStores.NewKey();
        await _store.SetAsync(key, [1, 2, 3], s_minute, CancellationToken.None);

        await _store.SetAsync(key, [4], s_minute, CancellationToken.None);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.EqualTo(new byte[] { 4 }));
    }

    [Test]
    public async Task SetAsync_TimeToLive_IsTheKeysExpiryInRedis()
    {
        var key = TestStores.NewKey();

        await _store.SetAsync(key, s_value, TimeSpan.FromSeconds(90), CancellationToken.None);

        Assert.That(TestStores.Pttl(_raw, Prefix + key), Is.InRange(1, 90_000));
    }

    [Test]
    public async Task SetAsync_ShortTimeToLive_ValueExpires()
    {
        var key = TestStores.NewKey();

        await _store.SetAsync(key, s_value, TimeSpan.FromMilliseconds(50), CancellationToken.None);

        await Poll.UntilAsync(() => !Raw.KeyExists(Prefix + key), "the value to expire");
        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.Null);
    }

    [Test]
    public async Task Keys_InRedis_AreThePrefixFollowedByTheKey()
    {
        var value = TestStores.NewKey();
        var lease = TestStores.NewKey("lock");

        await _store.SetAsync(value, s_value, s_minute, CancellationToken.None);
        await _store.TryAcquireLeaseAsync(lease, "owner-1", s_minute, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That((byte[]?)Raw.StringGet(Prefix + value), Is.EqualTo(s_value));
            Assert.That((string?)Raw.StringGet(Prefix + lease), Is.EqualTo("owner-1"));
            Assert.That(Raw.KeyExists(value), Is.False, "the unprefixed key");
        });
    }

    [Test]
    public async Task GetAsync_ValueWrittenByAnotherClient_IsReadUnderThePrefix()
    {
        var key = TestStores.NewKey();
        Raw.StringSet(Prefix + key, s_value);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
    }

    [Test]
    public async Task DeleteIfEqualAsync_SameBytes_DeletesAndReturnsTrue()
    {
        var key = TestStores.NewKey();
        await _store.SetAsync(key, s_value, s_minute, CancellationToken.None);

        var deleted = await _store.DeleteIfEqualAsync(key, [.. s_value], CancellationToken.None);

        Assert.That((deleted, Raw.KeyExists(Prefix + key)), Is.EqualTo((true, false)));
    }

    [TestCase(new byte[] { 0x00, 0xff, 0x7f, 0x80, (byte)'\r', (byte)'\n', 0x02 }, TestName = "{m}(LastByteDiffers)")]
    [TestCase(new byte[] { 0x00, 0xff, 0x7f, 0x80, (byte)'\r', (byte)'\n' }, TestName = "{m}(Prefix)")]
    [TestCase(new byte[] { 0x00, 0xff, 0x7f, 0x80, (byte)'\r', (byte)'\n', 0x01, 0x00 }, TestName = "{m}(Longer)")]
    [TestCase(new byte[0], TestName = "{m}(Empty)")]
    public async Task DeleteIfEqualAsync_OtherBytes_KeepsTheValueAndReturnsFalse(byte[] expected)
    {
        var key = TestStores.NewKey();
        await _store.SetAsync(key, s_value, s_minute, CancellationToken.None);

        var deleted = await _store.DeleteIfEqualAsync(key, expected, CancellationToken.None);

        Assert.That(deleted, Is.False);
        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.EqualTo(s_value));
    }

    [Test]
    public async Task DeleteIfEqualAsync_NothingStored_ReturnsFalse()
    {
        Assert.That(await _store.DeleteIfEqualAsync(TestStores.NewKey(), s_value, CancellationToken.None), Is.False);
    }

    [Test]
    public async Task TryAcquireLeaseAsync_Free_TakesItForTheLease()
    {
        var key = TestStores.NewKey("lock");

        var acquired = await _store.TryAcquireLeaseAsync(key, "owner-1", TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.That(acquired, Is.True);
        Assert.That((string?)Raw.StringGet(Prefix + key), Is.EqualTo("owner-1"));
        Assert.That(TestStores.Pttl(_raw, Prefix + key), Is.InRange(1, 30_000));
    }

    [Test]
    public async Task TryAcquireLeaseAsync_HeldByAnother_IsRefusedAndKeepsTheHolder()
    {
        var key = TestStores.NewKey("lock");
        await _store.TryAcquireLeaseAsync(key, "owner-1", s_minute, CancellationToken.None);

        var acquired = await _store.TryAcquireLeaseAsync(key, "owner-2", s_minute, CancellationToken.None);

        Assert.That(acquired, Is.False);
        Assert.That((string?)Raw.StringGet(Prefix + key), Is.EqualTo("owner-1"));
    }

    [Test]
    public async Task TryAcquireLeaseAsync_HeldBySameOwner_ExtendsIt()
    {
        var key = TestStores.NewKey("lock");
        await _store.TryAcquireLeaseAsync(key, "owner-1", TimeSpan.FromSeconds(1), CancellationToken.None);

        var acquired = await _store.TryAcquireLeaseAsync(key, "owner-1", s_minute, CancellationToken.None);

        Assert.That(acquired, Is.True);
        Assert.That(TestStores.Pttl(_raw, Prefix + key), Is.GreaterThan(1_000));
    }

    [Test]
    public async Task TryAcquireLeaseAsync_AnotherValueUnderTheKey_IsRefused()
    {
        var key = TestStores.NewKey("lock");
        Raw.StringSet(Prefix + key, "owner-1-but-longer");

        Assert.That(await _store.TryAcquireLeaseAsync(key, "owner-1", s_minute, CancellationToken.None), Is.False);
    }

    [Test]
    public async Task TryAcquireLeaseAsync_LeaseRunsOut_IsFreeForAnother()
    {
        var key = TestStores.NewKey("lock");
        await _store.TryAcquireLeaseAsync(key, "owner-1", TimeSpan.FromMilliseconds(50), CancellationToken.None);

        await Outcome.EventuallyAsync(
            async () => await _store.TryAcquireLeaseAsync(key, "owner-2", s_minute, CancellationToken.None),
            "the first lease to run out");

        Assert.That((string?)Raw.StringGet(Prefix + key), Is.EqualTo("owner-2"));
    }

    [Test]
    public async Task ReleaseLeaseAsync_ByItsOwner_FreesIt()
    {
        var key = TestStores.NewKey("lock");
        await _store.TryAcquireLeaseAsync(key, "owner-1", s_minute, CancellationToken.None);

        var released = await _store.ReleaseLeaseAsync(key, "owner-1", CancellationToken.None);

        Assert.That(released, Is.True);
        Assert.That(await _store.TryAcquireLeaseAsync(key, "owner-2", s_minute, CancellationToken.None), Is.True);
    }

    [Test]
    public async Task ReleaseLeaseAsync_ByAnother_KeepsItAndReturnsFalse()
    {
        var key = TestStores.NewKey("lock");
        await _store.TryAcquireLeaseAsync(key, "owner-1", s_minute, CancellationToken.None);

        var released = await _store.ReleaseLeaseAsync(key, "owner-2", CancellationToken.None);

        Assert.That(released, Is.False);
        Assert.That((string?)Raw.StringGet(Prefix + key), Is.EqualTo("owner-1"));
    }

    [Test]
    public async Task ReleaseLeaseAsync_NotHeld_ReturnsFalse()
    {
        Assert.That(await _store.ReleaseLeaseAsync(TestStores.NewKey("lock"), "owner-1", CancellationToken.None), Is.False);
    }

    [Test]
    public void SetAsync_ValueOver64KiB_ThrowsArgumentExceptionAndWritesNothing()
    {
        var key = TestStores.NewKey();

        Assert.That(
            async () => await _store.SetAsync(key, new byte[(64 * 1024) + 1], s_minute, CancellationToken.None),
            Throws.ArgumentException.With.Property(nameof(ArgumentException.ParamName)).EqualTo("value"));
        Assert.That(Raw.KeyExists(Prefix + key), Is.False);
    }

    [Test]
    public async Task SetAsync_Value64KiB_RoundTrips()
    {
        var key = TestStores.NewKey();
        var value = new byte[64 * 1024];
        Random.Shared.NextBytes(value);

        await _store.SetAsync(key, value, s_minute, CancellationToken.None);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.EqualTo(value));
    }

    [Test]
    public async Task GetAsync_ValueOver64KiBInRedis_ReadsAsNothing()
    {
        var key = TestStores.NewKey();
        Raw.StringSet(Prefix + key, new byte[100 * 1024]);

        Assert.That(await _store.GetAsync(key, CancellationToken.None), Is.Null);
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void SetAndLease_TimeNotPositive_ThrowArgumentOutOfRange(int milliseconds)
    {
        var duration = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Multiple(() =>
        {
            Assert.That(async () => await _store.SetAsync(TestStores.NewKey(), s_value, duration, CancellationToken.None), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(async () => await _store.TryAcquireLeaseAsync(TestStores.NewKey("lock"), "owner", duration, CancellationToken.None), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public async Task SetAsync_SubMillisecondTimeToLive_RoundsUpRatherThanFailing()
    {
        var key = TestStores.NewKey();

        await _store.SetAsync(key, s_value, TimeSpan.FromTicks(1), CancellationToken.None);

        await Poll.UntilAsync(() => !Raw.KeyExists(Prefix + key), "the value to expire");
    }

    [Test]
    public void Operations_NullArguments_Throw()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => _store.GetAsync(null!, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.SetAsync(null!, s_value, s_minute, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.SetAsync("k", null!, s_minute, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.DeleteIfEqualAsync(null!, s_value, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.DeleteIfEqualAsync("k", null!, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.TryAcquireLeaseAsync(null!, "o", s_minute, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.TryAcquireLeaseAsync("k", null!, s_minute, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.ReleaseLeaseAsync(null!, "o", CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.ReleaseLeaseAsync("k", null!, CancellationToken.None), Throws.ArgumentNullException);
            Assert.That(() => _store.WaitForChangeAsync(null!, s_minute, CancellationToken.None), Throws.ArgumentNullException);
        });
    }

    [Test]
    public void Operations_TokenAlreadyCancelled_ThrowOperationCanceled()
    {
        var cancelled = new CancellationToken(canceled: true);

        Assert.Multiple(() =>
        {
            Assert.That(async () => await _store.GetAsync(TestStores.NewKey(), cancelled), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await _store.SetAsync(TestStores.NewKey(), s_value, s_minute, cancelled), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await _store.TryAcquireLeaseAsync(TestStores.NewKey(), "o", s_minute, cancelled), Throws.InstanceOf<OperationCanceledException>());
            Assert.That(async () => await _store.WaitForChangeAsync(TestStores.NewKey(), s_minute, cancelled), Throws.InstanceOf<OperationCanceledException>());
        });
    }
}
