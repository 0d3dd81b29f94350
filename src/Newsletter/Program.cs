using Newsletter.Hosting;

// `newsletter` serves the site and runs the worker; `newsletter VERB` runs one admin task and exits.
return await NewsletterCommands.Build().Parse(args).InvokeAsync();
