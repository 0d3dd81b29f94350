global using Newsletter.IntegrationTests.Infrastructure;
global using Newsletter.IntegrationTests.Support;
global using Xunit;
global using static Newsletter.IntegrationTests.Support.TestCancellation;
