using Microsoft.Extensions.Options;
using Newsletter.Hosting;

namespace Newsletter.Mail;

/// <summary>Mail out: templates, the headers every message starts with, DKIM signing, and the transport.</summary>
public static class MailServices
{
    /// <summary>
    /// Composing: what renders and signs a message (the <c>preview</c> verb sends nothing). A process that runs jobs gets
    /// its templates compiled by a child process, so it never holds the compiler.
    /// </summary>
    public static IServiceCollection AddMail(this IServiceCollection services, ProcessRole? role = null)
    {
        services.AddOptionsWithValidateOnStart<MailOptions>().BindConfiguration(MailOptions.Section).ValidateDataAnnotations();
        services.AddOptionsWithValidateOnStart<TemplateOptions>().BindConfiguration(TemplateOptions.Section).ValidateDataAnnotations();
        if (role.RunsJobs())
        {
            services.AddSingleton<TemplateCompilerProcess>();
        }
        services.AddSingleton<EmailTemplates>();
        services.AddSingleton<OutgoingMail>();
        return services;
    }

    /// <summary>Sending: SMTP, or a pickup folder of .eml files when one is configured.</summary>
    public static IServiceCollection AddMailTransport(this IServiceCollection services)
    {
        services.AddOptionsWithValidateOnStart<SmtpOptions>().BindConfiguration(SmtpOptions.Section).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<SmtpOptions>, SmtpSettingsValidator>();
        services.AddSingleton<IDigestTransportFactory>(provider =>
            string.IsNullOrWhiteSpace(provider.GetRequiredService<IOptions<SmtpOptions>>().Value.PickupFolder)
                ? ActivatorUtilities.CreateInstance<SmtpTransportFactory>(provider)
                : ActivatorUtilities.CreateInstance<PickupFolderTransportFactory>(provider));
        services.AddHealthChecks().AddCheck<SmtpReadiness>("smtp", tags: ["ready"]);
        return services;
    }
}
