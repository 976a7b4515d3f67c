/* squint-preferences-window.h
 *
 * SPDX-License-Identifier: MIT
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SQUINT_TYPE_PREFERENCES_WINDOW (squint_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (SquintPreferencesWindow, squint_preferences_window, SQUINT, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *squint_preferences_window_new (GtkWindow *parent,
                                          GSettings *settings);

G_END_DECLS
