#include "pitctl.h"
int pitctl_cmd_doctor(pitctl_t *p) { (void) p; return 1; }
int pitctl_cmd_export(pitctl_t *p) { (void) p; return 1; }
int pitctl_cmd_import(pitctl_t *p) { (void) p; return 1; }
