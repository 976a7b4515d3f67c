/* main.c — squint, the desktop app.
 *
 * SPDX-License-Identifier: MIT
 */
#define G_LOG_DOMAIN "squint"

#include "squint-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "squint-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SquintApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Squint"));
  app = squint_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
