using System.Net;
using System.Net.Sockets;

namespace Newsletter.Hosting;

/// <summary>Who a rate limit counts: one client is one IPv4 address or one IPv6 /64, the block a single host is given.</summary>
public static class ClientAddress
{
    /// <summary>The partition of <paramref name="context"/>'s client; behind a trusted proxy, the address it forwarded.</summary>
    public static string PartitionKey(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return PartitionKey(context.Connection.RemoteIpAddress);
    }

    public static string PartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
