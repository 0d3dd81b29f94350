using Newsletter;
using Newsletter.Admin;
using Newsletter.Bounces;
using Newsletter.Database;
using Newsletter.Digests;
using Newsletter.Feeds;
using Newsletter.Hosting;
using Newsletter.Inbox;
using Newsletter.Jobs;
using Newsletter.Mail;
using Newsletter.Papers;
using Newsletter.Relevance;
using Newsletter.Subscribers;
using Newsletter.Web;

// `newsletter` serves the site and runs the worker (see Features below); `newsletter VERB` runs one task and exits.
var root = NewsletterServer.Command();
root.Subcommands.Add(InboxCommands.Parse());
root.Subcommands.Add(InboxCommands.Ingest());
root.Subcommands.Add(InboxCommands.Poll());
root.Subcommands.Add(DatabaseCommands.Migrate(Verbs.NewHostBuilder, PlaceholderSettings.Register));
root.Subcommands.Add(DigestCommands.Preview());
root.Subcommands.Add(DigestCommands.Resend());
root.Subcommands.Add(SubscriberCommands.Build());
root.Subcommands.Add(AdminCommands.Build());
root.Subcommands.Add(RelevanceCommands.Embed());
root.Subcommands.Add(MailCommands.CompileTemplates());
return await NewsletterServer.InvokeAsync(root.Parse(args));

namespace Newsletter
{
    /// <summary>What a process is made of, feature by feature. Each feature's folder owns its options, services and verbs.</summary>
    public static class Features
    {
        /// <summary>Every feature's services; <paramref name="role"/> adds what that process runs (null: the services alone, no site or job servers).</summary>
        public static IServiceCollection AddNewsletter(this IServiceCollection services, IConfiguration configuration, ProcessRole? role = null)
        {
            services.AddHosting();
            services.AddDatabase(configuration);
            services.AddBackgroundJobs(configuration, runsJobs: role.RunsJobs());
            services.AddPapers();
            services.AddInbox(role);
            services.AddSubscribers();
            services.AddRelevance(role);
            services.AddConfirmationMails(role);
            services.AddMail(role);
            services.AddMailTransport();
            services.AddDigests(role);
            services.AddBounces();
            services.AddHealth();
            if (role.ServesSite())
            {
                services.AddWeb(configuration);
                services.AddFeeds();
                services.AddAdmin(configuration);
            }
            return services;
        }

        /// <summary>The endpoints: health everywhere; the site, the admin area and the API only where the role serves them.</summary>
        public static WebApplication MapNewsletter(this WebApplication app, ProcessRole role)
        {
            app.MapHealth();
            if (((ProcessRole?)role).ServesSite())
            {
                app.MapWeb();
                app.MapFeeds();
                app.MapAdmin();
            }
            return app;
        }
    }
}
